/**
 * Linearity section: `ranged get -c 4` from nginx for 1 MiB up to 4 GiB (issue 5: time must grow
 * linearly with the size, with no O(n^2) segment bookkeeping, and peak RSS stay <= 64 MiB whatever
 * the size). `curl -o` runs the same sizes as a control: it has no segment bookkeeping, so growth
 * that curl shows too comes from the machine (page-cache write-back), not from ranged. Files that
 * the run does not already have are written here and deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLabel, sizeLabel, writeRandomFile } from './config.js';
import { clientSection, type GetContext, rangedGet, timedDownload } from './get.js';
import { check, interleave, measurement, median, type Section } from './stats.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CONNECTIONS = 4;
const TOOLS = [`ranged -c ${CONNECTIONS}`, 'curl'] as const;
type Tool = (typeof TOOLS)[number];

/** 7. Seconds, MB/s and peak RSS of `ranged get -c 4` (and curl) per file size. */
export async function linearity(ctx: GetContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const sizes = [...config.linearitySizes].sort((a, b) => a - b);
  const section = await clientSection(
    ctx,
    'linearity',
    `Linearity: ranged get -c ${CONNECTIONS} (curl -o as a control) from nginx, ${sizes.map(sizeLabel).join(', ')}: seconds, MB/s, peak RSS`,
  );
  if (section.skipped !== undefined) return section;
  const existing = [fixtures.small, fixtures.mid, fixtures.big];
  const written: string[] = [];
  try {
    const files = new Map<number, string>();
    // One random 64 MiB block, repeated: random enough that nothing compresses, quick to write.
    let block: Buffer | undefined;
    for (const size of sizes) {
      const found = existing.find((f) => f.size === size);
      if (found !== undefined) {
        files.set(size, found.name);
        continue;
      }
      const name = `linear-${fileLabel(size)}.bin`;
      const started = performance.now();
      block ??= randomBytes(64 * MiB);
      written.push(join(fixtures.root, name));
      await writeRandomFile(join(fixtures.root, name), size, block);
      files.set(size, name);
      ctx.log(`  linear fixture ${name} (${Math.round(performance.now() - started)} ms)`);
    }
    const url = (size: number) => `${ctx.nginx.origin}/${files.get(size)}`;
    const command = (tool: Tool, size: number, out: string): [string, string[]] =>
      tool === 'curl'
        ? ['curl', ['-s', '-f', '-o', out, url(size)]]
        : rangedGet(url(size), out, CONNECTIONS);
    // One untimed download per tool first (the first run was up to 3x slower in the get section).
    const warm = Math.min(...sizes.filter((s) => s >= 16 * MiB), Math.max(...sizes));
    for (const tool of TOOLS) {
      await timedDownload(ctx.scratch, (out) => command(tool, warm, out), warm, `${tool} warm-up`);
    }
    const items = sizes.flatMap((size) => TOOLS.map((tool) => `${size}:${tool}`));
    const parse = (item: string) => {
      const [size, tool] = item.split(':') as [string, Tool];
      return { size: Number(size), tool };
    };
    const rss = new Map<string, number[]>(items.map((item) => [item, []]));
    const seconds = await interleave(items, config.rounds, async (item, round) => {
      const { size, tool } = parse(item);
      const result = await timedDownload(
        ctx.scratch,
        (out) => command(tool, size, out),
        size,
        `${tool} (${sizeLabel(size)})`,
        Math.max(600_000, (size / GiB) * 300_000),
      );
      if (result.rss !== undefined) rss.get(item)?.push(result.rss / MiB);
      ctx.log(
        `  linear round ${round + 1} ${sizeLabel(size).padEnd(8)} ${tool.padEnd(11)} ${(result.ms / 1000).toFixed(2)} s, ${Math.round(size / 1e6 / (result.ms / 1000))} MB/s${result.rss === undefined ? '' : `, peak RSS ${(result.rss / MiB).toFixed(1)} MiB`}`,
      );
      return result.ms / 1000;
    });
    const secondsOf = (tool: Tool, size: number) => median(seconds.get(`${size}:${tool}`) ?? []);
    const perGiB = (tool: Tool, size: number) => secondsOf(tool, size) / (size / GiB);
    // "Net" s/GiB: past the fixed cost of a run (process start, probe, rename; estimated by the
    // smallest size's time). Left in, ranged's fixed ~0.4 s would inflate 256 MiB's s/GiB and
    // hide a 2x slowdown at 4 GiB.
    const smallest = sizes[0] ?? Number.NaN;
    const marginal = (tool: Tool, size: number) =>
      (secondsOf(tool, size) - secondsOf(tool, smallest)) / ((size - smallest) / GiB);
    const id = (item: string) => {
      const { size, tool } = parse(item);
      return `${fileLabel(size)}.${tool === 'curl' ? 'curl' : 'ranged'}`;
    };
    const label = (item: string) => {
      const { size, tool } = parse(item);
      return `${tool} ${sizeLabel(size)}`;
    };
    for (const item of items) {
      const { size, tool } = parse(item);
      const row = measurement('linearity', label(item), 's', seconds.get(item) ?? [], {
        secondsPerGiB: Number(perGiB(tool, size).toFixed(3)),
        ...(size === smallest
          ? {}
          : { secondsPerGiBPastFixedCost: Number(marginal(tool, size).toFixed(3)) }),
      });
      row.id = `linearity.${id(item)}`;
      section.measurements.push(row);
    }
    for (const item of items) {
      const { size } = parse(item);
      const rates = (seconds.get(item) ?? []).map((s) => size / 1e6 / s);
      const row = measurement('linearity-rate', label(item), 'MB/s', rates);
      row.id = `linearity-rate.${id(item)}`;
      section.measurements.push(row);
    }
    for (const item of items) {
      const peaks = rss.get(item) ?? [];
      if (peaks.length === 0 || parse(item).tool === 'curl') continue;
      const row = measurement(
        'linearity-rss',
        `${label(item)} (peak RSS, max)`,
        'MiB peak RSS',
        peaks,
      );
      row.id = `linearity-rss.${id(item)}`;
      row.median = Math.max(...peaks); // the floor is about the worst run
      section.measurements.push(row);
    }
    // Linear: the largest size costs no more per GiB than 256 MiB. A quick run stops at 256 MiB:
    // its ratio (against 1/16 of the largest) is shown without the floor.
    const largest = sizes[sizes.length - 1] ?? Number.NaN;
    const reference = largest > 256 * MiB ? 256 * MiB : largest / 16;
    const ranged: Tool = `ranged -c ${CONNECTIONS}`;
    const growth = (tool: Tool) => marginal(tool, largest) / marginal(tool, reference);
    const pair = `${sizeLabel(largest)} / ${sizeLabel(reference)}`;
    section.ratios.push(
      check(
        'linearity.fixed',
        `linearity: ranged fixed cost per run (the ${sizeLabel(smallest)} time)`,
        secondsOf(ranged, smallest),
        undefined,
        's',
      ),
      check(
        'linearity.perGiB.raw',
        `linearity: ranged s/GiB with fixed cost, ${pair}`,
        perGiB(ranged, largest) / perGiB(ranged, reference),
      ),
      check(
        'linearity.perGiB',
        `linearity: ranged net s/GiB, ${pair}`,
        growth(ranged),
        largest > 256 * MiB ? { issue: 5, op: '<=', limit: 1.5 } : undefined,
      ),
      check('linearity.perGiB.curl', `linearity: curl net s/GiB, ${pair}`, growth('curl')),
      check(
        'linearity.perGiB.ranged/curl',
        `linearity: ranged growth / curl growth, ${pair}`,
        growth(ranged) / growth('curl'),
      ),
    );
    for (const size of sizes) {
      const peaks = rss.get(`${size}:${ranged}`) ?? [];
      section.ratios.push(
        check(
          `linearity.rss.${fileLabel(size)}`,
          `linearity: ranged RSS at ${sizeLabel(size)} (max of runs)`,
          peaks.length === 0 ? Number.NaN : Math.max(...peaks),
          { issue: 5, op: '<=', limit: 64 },
          'MiB',
        ),
      );
    }
    return section;
  } finally {
    for (const path of written) await rm(path, { force: true });
  }
}
