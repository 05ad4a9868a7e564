/** Pieces of the hostile-clients section (bench/hostile.ts): its limits, targets, probes and runs. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './config.js';
import type { StalledSet } from './hostile-runs.js';
import { startNginx } from './peers.js';
import { sleep, track } from './procs.js';
import { type Measurement, measurement, median, type Section } from './stats.js';

export const MiB = 1024 * 1024;
/** Entries in the big folder (issue 9). */
export const ENTRIES = 100_000;
/** Concurrent listings per round, half HTML, half JSON. */
export const LISTINGS = 20;
/** Connections that ask for the big file and never read. */
export const STALLED = 300;
export const BIG_SIZE = 512 * MiB;
/** Issue 9's bounds. */
export const LATENCY_LIMIT_MS = 100;
export const LISTING_RSS_LIMIT_MIB = 256;
export const STALLED_RSS_LIMIT_MIB = 128;
/** The send timeout of the cut part, in seconds. */
export const CUT_SEND_TIMEOUT_S = 5;

export const SMALL_PATH = '/small.txt';
export const SMALL_BODY = 'hello\n';
export const BIG_PATH = '/big-512m.bin';
export const FOLDER_PATH = '/many/';
/** Pause between two small-file requests, so the probe is a client, not a load generator. */
export const PROBE_GAP_MS = 10;
export const PROBE_TIMEOUT_MS = 5_000;
/** The sort orders the listings ask for, in turn (each one is a sort of 100,000 entries). */
export const SORTS = ['', 'sort=size&order=desc', 'sort=mtime&order=desc', 'sort=name&order=desc'];
export const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
export const JSON_ACCEPT = 'application/json';

export interface HostileContext {
  config: BenchConfig;
  /** Scratch folder of the run: the section's files go in a folder under it, removed at the end. */
  scratch: string;
  log: (line: string) => void;
}

/** A server under test: a `ranged serve` child or nginx. */
export interface Target {
  name: 'ranged' | 'nginx';
  origin: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
  /** What a ranged child wrote on stderr (it runs with --quiet, so errors only), or its exit. */
  trouble(): string;
}

/** What the section keeps while it runs: servers and sockets to close, odd things seen. */
export interface Run {
  ctx: HostileContext;
  root: string;
  main: string;
  section: Section;
  targets: Target[];
  stalled: StalledSet[];
  odd: string[];
}

/** 9. Listings of 100,000 entries and 300 clients that never read: latency and RSS. */

export function noteTrouble(run: Run, what: string, target: Target): void {
  const trouble = target.trouble();
  if (trouble !== '') run.odd.push(`${what}: ${trouble}`);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function mib(bytes: number | undefined): number {
  return bytes === undefined ? Number.NaN : Number((bytes / MiB).toFixed(1));
}

export function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(2));
}

/** The CLI to run: this build's, or the one next to BENCH_RANGED's server.js. */
export function cliMain(config: BenchConfig): string {
  if (config.rangedModule !== undefined) {
    return join(dirname(config.rangedModule), '..', 'cli', 'main.js');
  }
  return fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
}

/**
 * `ranged serve ROOT --port 0 --quiet ARGS` as a child; its URL is read from the line it prints.
 * A watchdog kills it if this process dies without cleaning up (as peers.ts does for nginx).
 */
export async function startRanged(run: Run, args: string[]): Promise<Target> {
  const child = track(
    spawn(process.execPath, [run.main, 'serve', run.root, '--port', '0', '--quiet', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const watchdog = track(
    spawn('/bin/sh', ['-c', `read _ignored; kill ${child.pid} 2>/dev/null`], {
      stdio: ['pipe', 'ignore', 'ignore'],
    }),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 100_000) stderr += s;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    watchdog.kill('SIGKILL');
    await stopChild(child);
  };
  const target: Target = {
    name: 'ranged',
    origin: '',
    port: 0,
    pid: child.pid,
    stop,
    trouble: () => {
      const died =
        child.exitCode !== null || child.signalCode !== null
          ? `exited with ${child.signalCode ?? child.exitCode}; `
          : '';
      return `${died}${stderr.trim()}`.trim();
    },
  };
  run.targets.push(target);
  target.origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error('Cannot start ranged serve: no URL after 15 s')),
      15_000,
    );
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const match = /(http:\/\/[^\s/]+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`Cannot start ranged serve: exited with ${signal ?? code}: ${stderr.trim()}`),
      );
    });
  });
  target.port = Number(new URL(target.origin).port);
  return target;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

export async function startNginxTarget(
  run: Run,
  workDir: string,
  autoindex: boolean,
): Promise<Target> {
  const peer = await startNginx(run.root, workDir, { autoindex });
  const target: Target = {
    name: 'nginx',
    origin: peer.origin,
    port: Number(new URL(peer.origin).port),
    pid: peer.pid,
    stop: () => peer.stop(),
    trouble: () => '',
  };
  run.targets.push(target);
  return target;
}

export async function checkServes(target: Target): Promise<void> {
  const res = await fetchOnce(target.origin, SMALL_PATH, { timeoutMs: 5_000, keepBody: true });
  if (res.status !== 200 || res.body !== SMALL_BODY) {
    throw new Error(
      `Cannot measure ${target.name}: ${SMALL_PATH} answered ${res.status} with ${res.bytes} bytes`,
    );
  }
}

export interface Fetched {
  /** 0 when the request failed or timed out. */
  status: number;
  bytes: number;
  /** From the request to the end of the body. */
  ms: number;
  body: string;
  error?: string;
}

/** One GET on a new connection (agent: false). Never rejects; a failure has status 0. */
export function fetchOnce(
  origin: string,
  path: string,
  options: { accept?: string; timeoutMs: number; keepBody?: boolean },
): Promise<Fetched> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let bytes = 0;
    const chunks: Buffer[] = [];
    const done = (status: number, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        status,
        bytes,
        ms: performance.now() - started,
        body: Buffer.concat(chunks).toString('utf8'),
        ...(error === undefined ? {} : { error }),
      });
    };
    const req = request(
      `${origin}${path}`,
      { agent: false, headers: options.accept === undefined ? {} : { accept: options.accept } },
      (res) => {
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (options.keepBody && bytes <= 4 * MiB) chunks.push(chunk);
        });
        res.once('end', () => done(res.statusCode ?? 0));
        res.once('close', () => done(0, 'closed before the end'));
        res.once('error', (error) => done(0, error.message));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(0, `timeout ${options.timeoutMs} ms`);
    }, options.timeoutMs);
    req.once('error', (error) => done(0, (error as NodeJS.ErrnoException).code ?? error.message));
    req.end();
  });
}

/** One small-file request: when it started (performance.now()), how long it took, if it worked. */
export interface Probe {
  at: number;
  ms: number;
  ok: boolean;
  error?: string;
}

/**
 * Fetches the small file again and again (one at a time, a new connection each, PROBE_GAP_MS
 * apart) while `busy()` holds, at least `minCount` times, at most `maxMs`.
 */
export async function probeWhile(
  origin: string,
  busy: () => boolean,
  limits: { minCount: number; maxMs: number },
): Promise<Probe[]> {
  const probes: Probe[] = [];
  const started = performance.now();
  while (performance.now() - started < limits.maxMs) {
    if (!busy() && probes.length >= limits.minCount) break;
    const at = performance.now();
    const res = await fetchOnce(origin, SMALL_PATH, { timeoutMs: PROBE_TIMEOUT_MS });
    const ok = res.status === 200 && res.bytes === SMALL_BODY.length;
    probes.push({
      at,
      ms: res.ms,
      ok,
      ...(ok ? {} : { error: res.error ?? `status ${res.status}` }),
    });
    await sleep(PROBE_GAP_MS);
  }
  return probes;
}

/** Median and max latency of probes (failed ones count with the time they took), failures. */
export function summarise(probes: readonly Probe[]): {
  median: number;
  max: number;
  count: number;
  failed: number;
  errors: string[];
} {
  const ms = probes.map((p) => p.ms);
  const failed = probes.filter((p) => !p.ok);
  return {
    median: median(ms),
    max: ms.length === 0 ? Number.NaN : Math.max(...ms),
    count: probes.length,
    failed: failed.length,
    errors: [...new Set(failed.map((p) => p.error ?? 'failed'))].slice(0, 3),
  };
}

/**
 * Median and max rows for probes taken in one or more rounds: a sample per round, the max row
 * showing the worst round (the floors are about every answer, not a typical one).
 */
export function latencyRows(id: string, label: string, rounds: Probe[][]): Measurement[] {
  const all = summarise(rounds.flat());
  const notes: Record<string, number | string> = { requests: all.count, failed: all.failed };
  if (all.failed > 0) notes.errors = all.errors.join(', ');
  const medianRow = measurement(
    `${id}-median`,
    `${label}, median`,
    'ms',
    rounds.map((r) => summarise(r).median),
    notes,
  );
  const maxRow = measurement(
    `${id}-max`,
    `${label}, max`,
    'ms',
    rounds.map((r) => summarise(r).max),
  );
  maxRow.median = all.max;
  return [medianRow, maxRow];
}

/** The listings of one round: HTML and JSON in turn, pages and sort orders spread out. */
export function listingPaths(round: number): Array<{ path: string; accept: string }> {
  const out: Array<{ path: string; accept: string }> = [];
  for (let i = 0; i < LISTINGS; i++) {
    const sort = SORTS[Math.floor(i / 2) % SORTS.length] ?? '';
    const page = 1 + ((i * 37 + round * 11) % (ENTRIES / 1000));
    out.push({
      path: `${FOLDER_PATH}?page=${page}${sort === '' ? '' : `&${sort}`}`,
      accept: i % 2 === 0 ? HTML_ACCEPT : JSON_ACCEPT,
    });
  }
  return out;
}

export interface ListingRound {
  ms: number;
  bytes: number;
  probes: Probe[];
  failures: string[];
}

/** One round: LISTINGS listings at once, small-file requests until they have all answered. */
export async function listingRound(target: Target, round: number): Promise<ListingRound> {
  let busy = true;
  const started = performance.now();
  const listings = Promise.all(
    listingPaths(round).map((r) =>
      fetchOnce(target.origin, r.path, { accept: r.accept, timeoutMs: 30_000 }),
    ),
  ).then((results) => {
    busy = false;
    return { results, ms: performance.now() - started };
  });
  const probes = probeWhile(target.origin, () => busy, { minCount: 1, maxMs: 35_000 });
  const [{ results, ms }, p] = await Promise.all([listings, probes]);
  const failures = results
    .filter((r) => r.status !== 200)
    .map((r) => (r.status === 0 ? (r.error ?? 'failed') : String(r.status)));
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  return { ms, bytes, probes: p, failures };
}

/** Sockets the process has open (from /proc/PID/fd), or NaN. */
