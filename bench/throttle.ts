/**
 * Throttle section: a slow origin, every response held to 4 MiB/s by nginx `limit_rate`. Issue 5:
 * `ranged get -c 8` must be at least 7x as fast as `-c 1` (8x with a strict limit).
 *
 * nginx's limit is not strict at the start of a response: it allows `limit_rate * (now - start + 1)`
 * bytes with `now` in whole seconds, a burst of 4-8 MiB per response. That shortens a short
 * transfer most, so `-c 8`, whose responses are 1/8 as long, gains more from it and the ratio can
 * exceed 8. The larger the file, the smaller the effect (128 MiB in a full run).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLabel, sizeLabel, writeRandomFile } from './config.js';
import { clientSection, type GetContext, rangedGet, timedDownload } from './get.js';
import { THROTTLED_PREFIX, THROTTLED_RATE } from './peers.js';
import { check, interleave, measurement, ratio, type Section } from './stats.js';

const MiB = 1024 * 1024;
const TOOLS = ['ranged -c 1', 'ranged -c 8'] as const;
type Tool = (typeof TOOLS)[number];
const connectionsOf = (tool: Tool) => (tool === 'ranged -c 1' ? 1 : 8);

/** 6. `ranged get -c 1` and `-c 8` from nginx with `limit_rate 4m`. */
export async function throttledDownloads(ctx: GetContext): Promise<Section> {
  const { config } = ctx;
  const size = config.throttleSize;
  const section = await clientSection(
    ctx,
    'throttle',
    `Throttled origin: GET ${sizeLabel(size)} from nginx with limit_rate ${THROTTLED_RATE / MiB}m (per response), MB/s and peak RSS`,
  );
  if (section.skipped !== undefined) return section;
  const name = `throttle-${fileLabel(size)}.bin`;
  const path = join(ctx.fixtures.root, name);
  await writeRandomFile(path, size, randomBytes(MiB));
  try {
    const url = `${ctx.nginx.origin}${THROTTLED_PREFIX}/${name}`;
    const rss = new Map<Tool, number[]>(TOOLS.map((t) => [t, []]));
    // One untimed run of the fast case: code and page cache warm, nginx's location checked.
    await timedDownload(ctx.scratch, (out) => rangedGet(url, out, 8), size, 'ranged -c 8');
    const samples = await interleave(TOOLS, config.rounds, async (tool, round) => {
      const result = await timedDownload(
        ctx.scratch,
        (out) => rangedGet(url, out, connectionsOf(tool)),
        size,
        tool,
      );
      const bytesPerSecond = size / (result.ms / 1000);
      // A throttle that does not hold would make the floor meaningless: stop rather than report.
      if (bytesPerSecond > connectionsOf(tool) * THROTTLED_RATE * 1.2) {
        throw new Error(
          `Cannot trust the throttle: ${tool} got ${(bytesPerSecond / MiB).toFixed(1)} MiB/s, above ${connectionsOf(tool)} x ${THROTTLED_RATE / MiB} MiB/s`,
        );
      }
      if (result.rss !== undefined) rss.get(tool)?.push(result.rss / MiB);
      ctx.log(
        `  thrtl  round ${round + 1} ${tool.padEnd(11)} ${(bytesPerSecond / 1e6).toFixed(1)} MB/s in ${(result.ms / 1000).toFixed(2)} s`,
      );
      return bytesPerSecond / 1e6;
    });
    for (const tool of TOOLS) {
      section.measurements.push(measurement('throttle', tool, 'MB/s', samples.get(tool) ?? []));
    }
    for (const tool of TOOLS) {
      const peaks = rss.get(tool) ?? [];
      if (peaks.length === 0) continue;
      const row = measurement('throttle-rss', tool, 'MiB peak RSS', peaks);
      row.label = `${tool} (peak RSS, max)`;
      row.median = Math.max(...peaks);
      section.measurements.push(row);
    }
    const m = (tool: Tool) =>
      section.measurements.find((x) => x.id === `throttle.${tool}`)?.median ?? Number.NaN;
    section.ratios.push(
      ratio(
        'throttle.c8/c1',
        'throttled origin: ranged -c 8 / -c 1',
        m('ranged -c 8'),
        m('ranged -c 1'),
        {
          issue: 5,
          op: '>=',
          limit: 7,
        },
      ),
      check(
        'throttle.c1/limit',
        `throttled origin: ranged -c 1 / the ${THROTTLED_RATE / MiB} MiB/s limit`,
        m('ranged -c 1') / (THROTTLED_RATE / 1e6),
      ),
    );
    return section;
  } finally {
    await rm(path, { force: true });
  }
}
