/**
 * Journal section: what journal saves cost a download (issue 5: "journal writes must not cost more
 * than 5% of throughput"). `download()` with one connection, through the library API in a child
 * process (get-child.ts), once with the default save policy and once with saves effectively off
 * (`saveInterval: 1e9, saveBytes: Number.MAX_SAFE_INTEGER`), interleaved.
 */
import { fileURLToPath } from 'node:url';
import { sizeLabel } from './config.js';
import { clientSection, type GetContext, timedDownload } from './get.js';
import { interleave, measurement, ratio, type Section } from './stats.js';

const MiB = 1024 * 1024;
const child = fileURLToPath(new URL('./get-child.js', import.meta.url));

/**
 * `saves each 1 s` (no floor) splits the cost: the default also saves after every
 * `saveBytes` (1 MiB) per connection, at most every `saveInterval / 50` ms.
 */
const VARIANTS = {
  'default saves': { connections: 1 },
  'saves each 1 s': { connections: 1, saveBytes: Number.MAX_SAFE_INTEGER },
  'no saves': {
    connections: 1,
    saveInterval: 1e9,
    saveBytes: Number.MAX_SAFE_INTEGER,
  },
} as const;
type Variant = keyof typeof VARIANTS;
const NAMES = Object.keys(VARIANTS) as Variant[];

/** 8. download() -c 1 of the big file, default journal saves against none. */
export async function journalCost(ctx: GetContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const file = fixtures.big;
  const section = await clientSection(
    ctx,
    'journal',
    `Journal cost: download() -c 1 of ${sizeLabel(file.size)} from nginx, default saves vs none; MB/s of the download() call, median of ${config.journalRounds} rounds`,
  );
  if (section.skipped !== undefined) return section;
  const url = `${ctx.nginx.origin}/${file.name}`;
  const once = async (variant: Variant) => {
    const result = await timedDownload(
      ctx.scratch,
      (out) => [process.execPath, [child, url, out, JSON.stringify(VARIANTS[variant])]],
      file.size,
      `download() (${variant})`,
    );
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
      ms?: number;
      size?: number;
    };
    if (report.ms === undefined || report.size !== file.size) {
      throw new Error(`Cannot read get-child.js's report: ${result.stdout.slice(0, 200)}`);
    }
    return { ms: report.ms, wallMs: result.ms, rss: result.rss, cpu: result.cpuSeconds };
  };
  for (const variant of NAMES) await once(variant); // untimed: code and page cache warm
  const rss = new Map<Variant, number[]>(NAMES.map((v) => [v, []]));
  const wall = new Map<Variant, number[]>(NAMES.map((v) => [v, []]));
  // CPU time per GB: steadier than MB/s when other jobs share the machine.
  const cpu = new Map<Variant, number[]>(NAMES.map((v) => [v, []]));
  const samples = await interleave(NAMES, config.journalRounds, async (variant, round) => {
    const r = await once(variant);
    if (r.rss !== undefined) rss.get(variant)?.push(r.rss / MiB);
    if (r.cpu !== undefined) cpu.get(variant)?.push(r.cpu / (file.size / 1e9));
    wall.get(variant)?.push(file.size / 1e6 / (r.wallMs / 1000));
    const mbps = file.size / 1e6 / (r.ms / 1000);
    ctx.log(
      `  jrnl   round ${round + 1} ${variant.padEnd(14)} ${Math.round(mbps)} MB/s (${(r.ms / 1000).toFixed(2)} s)`,
    );
    return mbps;
  });
  for (const variant of NAMES) {
    section.measurements.push(
      measurement('journal', `ranged -c 1 ${variant}`, 'MB/s', samples.get(variant) ?? []),
    );
  }
  for (const variant of NAMES) {
    const row = measurement(
      'journal-wall',
      `ranged -c 1 ${variant} (process wall time)`,
      'MB/s',
      wall.get(variant) ?? [],
    );
    section.measurements.push(row);
  }
  for (const variant of NAMES) {
    const values = cpu.get(variant) ?? [];
    if (values.length === 0) continue;
    section.measurements.push(
      measurement('journal-cpu', `ranged -c 1 ${variant} (client CPU)`, 's CPU/GB', values),
    );
  }
  for (const variant of NAMES) {
    const peaks = rss.get(variant) ?? [];
    if (peaks.length === 0) continue;
    const row = measurement(
      'journal-rss',
      `ranged -c 1 ${variant} (peak RSS, max)`,
      'MiB peak RSS',
      peaks,
    );
    row.median = Math.max(...peaks);
    section.measurements.push(row);
  }
  const m = (variant: Variant) =>
    section.measurements.find((x) => x.id === `journal.ranged -c 1 ${variant}`)?.median ??
    Number.NaN;
  section.ratios.push(
    ratio(
      'journal.default/nosaves',
      'journal cost: default saves / no saves',
      m('default saves'),
      m('no saves'),
      { issue: 5, op: '>=', limit: 0.95 },
    ),
    ratio(
      'journal.cpu.nosaves/default',
      'journal CPU/GB: no saves / default saves',
      section.measurements.find((x) => x.id === 'journal-cpu.ranged -c 1 no saves (client CPU)')
        ?.median ?? Number.NaN,
      section.measurements.find(
        (x) => x.id === 'journal-cpu.ranged -c 1 default saves (client CPU)',
      )?.median ?? Number.NaN,
    ),
    ratio(
      'journal.timed/nosaves',
      'journal cost: saves each 1 s / no saves',
      m('saves each 1 s'),
      m('no saves'),
    ),
  );
  return section;
}
