/**
 * Client section: the big file from nginx on loopback to disk. `ranged get -c 1` against curl,
 * `ranged get -c 4` against aria2c -x4 -s4 -k1M, with the peak RSS of every run (GNU time's %M,
 * or VmHWM polled from /proc when /usr/bin/time is missing).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchConfig, type Fixtures, sizeLabel } from './config.js';
import type { RunningPeer } from './peers.js';
import { peakRss, type RunResult, run } from './procs.js';
import { check, interleave, measurement, ratio, type Section } from './stats.js';

export interface GetContext {
  config: BenchConfig;
  fixtures: Fixtures;
  nginx: RunningPeer;
  /** Downloads go below this folder, on the same disk as the served files. */
  scratch: string;
  log: (line: string) => void;
}

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const GNU_TIME = '/usr/bin/time';
const MiB = 1024 * 1024;

type Tool =
  | 'ranged -c 1'
  | 'curl'
  | 'ranged -c 4'
  | 'aria2c -x4'
  | 'baseline -c 1'
  | 'baseline -c 4';
const TOOLS: readonly Tool[] = ['ranged -c 1', 'curl', 'ranged -c 4', 'aria2c -x4'];

/** The CLI of the BENCH_BASELINE build: `cli/main.js` beside its `server/server.js`. */
function baselineCli(config: BenchConfig): string | undefined {
  return config.baselineModule === undefined
    ? undefined
    : join(dirname(config.baselineModule), '../cli/main.js');
}

let baseline: string | undefined;

function command(tool: Tool, url: string, dir: string, name: string): [string, string[]] {
  const out = join(dir, name);
  switch (tool) {
    case 'baseline -c 1':
    case 'baseline -c 4':
      return [
        process.execPath,
        [baseline ?? '', 'get', url, '-o', out, '-c', tool.slice(-1), '--quiet'],
      ];
    case 'ranged -c 1':
      return [process.execPath, [cli, 'get', url, '-o', out, '-c', '1', '--quiet']];
    case 'ranged -c 4':
      return [process.execPath, [cli, 'get', url, '-o', out, '-c', '4', '--quiet']];
    case 'curl':
      return ['curl', ['-s', '-f', '-o', out, url]];
    case 'aria2c -x4':
      return [
        'aria2c',
        [
          '-x4',
          '-s4',
          '-k1M',
          '-q',
          '--allow-overwrite=true',
          '--auto-file-renaming=false',
          '--summary-interval=0',
          '-d',
          dir,
          '-o',
          name,
          url,
        ],
      ];
  }
}

/** `ranged get URL -o OUT -c N --quiet`, as a command for run() or timed(). */
export function rangedGet(url: string, out: string, connections: number): [string, string[]] {
  return [process.execPath, [cli, 'get', url, '-o', out, '-c', String(connections), '--quiet']];
}

export interface Timed extends RunResult {
  /** Peak resident set size in bytes, when known. */
  rss: number | undefined;
  /** CPU time the command used, user + system, in seconds (GNU time only). */
  cpuSeconds?: number;
}

/**
 * Runs a download under GNU time (%M for the peak RSS, %U and %S for CPU time), or polls VmHWM
 * every 50 ms without it.
 */
export async function timed(
  cmd: string,
  args: string[],
  dir: string,
  timeoutMs: number,
): Promise<Timed> {
  if (existsSync(GNU_TIME)) {
    const rssFile = join(dir, '..', `rss-${process.pid}-${Date.now()}.txt`);
    const result = await run(GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args], {
      timeoutMs,
    });
    // The last line: "Command exited with non-zero status N" may come before it.
    const last = (await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
    await rm(rssFile, { force: true });
    const [kb, user, system] = last.split(' ').map(Number);
    const cpu = (user ?? Number.NaN) + (system ?? Number.NaN);
    return {
      ...result,
      rss: kb !== undefined && Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined,
      ...(Number.isFinite(cpu) ? { cpuSeconds: cpu } : {}),
    };
  }
  let rss: number | undefined;
  let pid: number | undefined;
  const poll = setInterval(() => {
    void peakRss(pid).then((value) => {
      if (value !== undefined) rss = Math.max(rss ?? 0, value);
    });
  }, 50);
  try {
    const result = await run(cmd, args, { timeoutMs, onSpawn: (p) => (pid = p) });
    return { ...result, rss };
  } finally {
    clearInterval(poll);
  }
}

/** Does `ranged get` exist and download a small file correctly? */
async function rangedGetWorks(ctx: GetContext): Promise<string | undefined> {
  const dir = join(ctx.scratch, 'probe');
  await mkdir(dir, { recursive: true });
  try {
    const url = `${ctx.nginx.origin}/${ctx.fixtures.small.name}`;
    const [cmd, args] = command('ranged -c 4', url, dir, 'probe.bin');
    const result = await run(cmd, args, { timeoutMs: 60_000 });
    if (result.code !== 0) {
      return `exit ${result.code}: ${(result.stderr.trim().split('\n')[0] ?? '').slice(0, 200)}`;
    }
    const [got, want] = await Promise.all([
      readFile(join(dir, 'probe.bin')),
      readFile(join(ctx.fixtures.root, ctx.fixtures.small.name)),
    ]);
    if (!got.equals(want)) return `downloaded ${got.length} bytes that differ from the source`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let downloadIndex = 0;

/**
 * One timed download into a fresh folder below `scratch`, which is deleted afterwards: `sync`
 * first (no dirty pages left by the previous run), then `command(out)`, which must write exactly
 * `size` bytes to `out`. Throws on a non-zero exit or a wrong size.
 */
export async function timedDownload(
  scratch: string,
  command: (out: string) => [string, string[]],
  size: number,
  what: string,
  timeoutMs = 600_000,
): Promise<Timed> {
  const dir = join(scratch, `timed-${downloadIndex++}`);
  await mkdir(dir, { recursive: true });
  try {
    await run('sync', [], { timeoutMs: 120_000 });
    const out = join(dir, 'out.bin');
    const [cmd, args] = command(out);
    const result = await timed(cmd, args, dir, timeoutMs);
    if (result.code !== 0) {
      throw new Error(
        `Cannot download with ${what}: exit ${result.code ?? result.signal}: ${result.stderr.slice(0, 300)}`,
      );
    }
    const wrote = (await stat(out)).size;
    if (wrote !== size) {
      throw new Error(`Cannot trust ${what}: wrote ${wrote} bytes, expected ${size}`);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A client section, already marked skipped when `ranged get` does not work here. */
export async function clientSection(ctx: GetContext, id: string, title: string): Promise<Section> {
  const section: Section = { id, title, measurements: [], ratios: [] };
  const problem = await rangedGetWorks(ctx);
  if (problem !== undefined) section.skipped = `skipped: ranged get not available (${problem})`;
  return section;
}

/** 4. The download client against curl and aria2c. */
export async function clientDownloads(ctx: GetContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const file = fixtures.big;
  const section = await clientSection(
    ctx,
    'get',
    `Client: GET ${sizeLabel(file.size)} from nginx on loopback to disk, MB/s and peak RSS`,
  );
  if (section.skipped !== undefined) return section;
  const url = `${ctx.nginx.origin}/${file.name}`;
  baseline = baselineCli(config);
  const tools: readonly Tool[] =
    baseline === undefined ? TOOLS : [...TOOLS, 'baseline -c 1', 'baseline -c 4'];
  const rss = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  let runIndex = 0;
  // One untimed download per tool first: the first run of each was up to 3x slower.
  for (const tool of tools) {
    const dir = join(ctx.scratch, `warm-${runIndex++}`);
    await mkdir(dir, { recursive: true });
    try {
      const [cmd, args] = command(tool, url, dir, 'out.bin');
      await run(cmd, args, { timeoutMs: 600_000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const samples = await interleave(tools, config.rounds, async (tool, round) => {
    const dir = join(ctx.scratch, `dl-${runIndex++}`);
    await mkdir(dir, { recursive: true });
    try {
      // Start every run with no dirty pages left by the previous tool's 1 GiB: otherwise a tool
      // that syncs (ranged) pays for writing back the data of one that does not (curl, aria2c).
      await run('sync', [], { timeoutMs: 120_000 });
      const [cmd, args] = command(tool, url, dir, 'out.bin');
      const result = await timed(cmd, args, dir, 600_000);
      if (result.code !== 0) {
        throw new Error(
          `Cannot download with ${tool}: exit ${result.code}: ${result.stderr.slice(0, 300)}`,
        );
      }
      const size = (await stat(join(dir, 'out.bin'))).size;
      if (size !== file.size) {
        throw new Error(`Cannot trust ${tool}: wrote ${size} bytes, expected ${file.size}`);
      }
      if (result.rss !== undefined) rss.get(tool)?.push(result.rss);
      const mbps = file.size / 1e6 / (result.ms / 1000);
      const rssText =
        result.rss === undefined ? '' : `, peak RSS ${(result.rss / MiB).toFixed(1)} MiB`;
      ctx.log(`  get    round ${round + 1} ${tool.padEnd(11)} ${Math.round(mbps)} MB/s${rssText}`);
      return mbps;
    } finally {
      await rm(dir, { recursive: true, force: true }); // the next run starts on an empty folder
    }
  });
  for (const tool of tools) {
    section.measurements.push(measurement('get', tool, 'MB/s', samples.get(tool) ?? []));
  }
  for (const tool of tools) {
    const peaks = (rss.get(tool) ?? []).map((bytes) => bytes / MiB);
    if (peaks.length > 0) {
      const row = measurement('get-rss', tool, 'MiB peak RSS', peaks);
      row.median = Math.max(...peaks); // the floor is about the worst run, not the typical one
      row.label = `${tool} (peak RSS, max)`;
      section.measurements.push(row);
    }
  }
  const m = (tool: Tool) =>
    section.measurements.find((x) => x.label === tool)?.median ?? Number.NaN;
  const rangedPeak = Math.max(...(rss.get('ranged -c 1') ?? []), ...(rss.get('ranged -c 4') ?? []));
  section.ratios.push(
    ratio('get.c1/curl', 'get: ranged -c 1 / curl', m('ranged -c 1'), m('curl'), {
      issue: 5,
      op: '>=',
      limit: 1.0,
    }),
    ratio('get.c4/aria2c', 'get: ranged -c 4 / aria2c -x4', m('ranged -c 4'), m('aria2c -x4'), {
      issue: 5,
      op: '>=',
      limit: 1.2,
    }),
    check(
      'get.rss',
      'get: ranged peak RSS (largest of all runs)',
      rangedPeak / MiB,
      { issue: 5, op: '<=', limit: 64 },
      'MiB',
    ),
  );
  if (baseline !== undefined) {
    const peak = (tool: Tool) => Math.max(...(rss.get(tool) ?? []));
    section.ratios.push(
      ratio(
        'get.c1/baseline',
        'get: ranged -c 1 / baseline -c 1',
        m('ranged -c 1'),
        m('baseline -c 1'),
      ),
      ratio(
        'get.c4/baseline',
        'get: ranged -c 4 / baseline -c 4',
        m('ranged -c 4'),
        m('baseline -c 4'),
      ),
      ratio(
        'get.rss/baseline',
        'get: ranged peak RSS / baseline peak RSS (-c 4)',
        peak('ranged -c 4'),
        peak('baseline -c 4'),
      ),
    );
  }
  return section;
}
