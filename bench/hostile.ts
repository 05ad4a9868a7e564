/**
 * Hostile-clients section (issue 9): what clients can make `ranged serve` hold. The server is the
 * real CLI in a child process (`node dist/src/cli/main.js serve DIR --port 0 --quiet`), so the
 * RSS read from /proc is its own; nginx (its own instances, one process each) is the peer measured
 * in the same run.
 * - Listings: 20 concurrent listings of a folder of 100,000 empty files (10 HTML, 10 JSON, pages
 *   and sort orders spread out), round after round, while a small file is fetched again and again
 *   (a new connection each time, one request at a time). Floors: every small-file answer < 100 ms,
 *   server peak RSS (VmHWM) < 256 MiB. Peer: nginx autoindex (HTML, the whole folder in one
 *   page), one round, for the record.
 * - Stalled clients: 300 connections that each send a GET for a 512 MiB file and never read, while
 *   the small file is fetched again and again. Floors: the RSS they add once it stops growing
 *   < 128 MiB, every small-file answer from the first connection on < 100 ms. Peer: a fresh nginx.
 * - Cut: the same 300 clients against `--send-timeout 5`: how long until the server has closed
 *   them all (seen from the kernel's list of established connections: a client that never reads
 *   cannot see the close itself).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readlink, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './config.js';
import { startNginx } from './peers.js';
import { currentRss, peakRss, run, sleep, track } from './procs.js';
import { check, type Measurement, measurement, median, ratio, type Section } from './stats.js';

const MiB = 1024 * 1024;
/** Entries in the big folder (issue 9). */
const ENTRIES = 100_000;
/** Concurrent listings per round, half HTML, half JSON. */
const LISTINGS = 20;
/** Connections that ask for the big file and never read. */
const STALLED = 300;
const BIG_SIZE = 512 * MiB;
/** Issue 9's bounds. */
const LATENCY_LIMIT_MS = 100;
const LISTING_RSS_LIMIT_MIB = 256;
const STALLED_RSS_LIMIT_MIB = 128;
/** The send timeout of the cut part, in seconds. */
const CUT_SEND_TIMEOUT_S = 5;

const SMALL_PATH = '/small.txt';
const SMALL_BODY = 'hello\n';
const BIG_PATH = '/big-512m.bin';
const FOLDER_PATH = '/many/';
/** Pause between two small-file requests, so the probe is a client, not a load generator. */
const PROBE_GAP_MS = 10;
const PROBE_TIMEOUT_MS = 5_000;
/** The sort orders the listings ask for, in turn (each one is a sort of 100,000 entries). */
const SORTS = ['', 'sort=size&order=desc', 'sort=mtime&order=desc', 'sort=name&order=desc'];
const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const JSON_ACCEPT = 'application/json';

export interface HostileContext {
  config: BenchConfig;
  /** Scratch folder of the run: the section's files go in a folder under it, removed at the end. */
  scratch: string;
  log: (line: string) => void;
}

/** A server under test: a `ranged serve` child or nginx. */
interface Target {
  name: 'ranged' | 'nginx';
  origin: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
  /** What a ranged child wrote on stderr (it runs with --quiet, so errors only), or its exit. */
  trouble(): string;
}

/** What the section keeps while it runs: servers and sockets to close, odd things seen. */
interface Run {
  ctx: HostileContext;
  root: string;
  main: string;
  section: Section;
  targets: Target[];
  stalled: StalledSet[];
  odd: string[];
}

/** 9. Listings of 100,000 entries and 300 clients that never read: latency and RSS. */
export async function hostileClients(ctx: HostileContext): Promise<Section> {
  const dir = join(ctx.scratch, 'hostile');
  const run: Run = {
    ctx,
    root: join(dir, 'root'),
    main: cliMain(ctx.config),
    section: {
      id: 'hostile',
      title: `Hostile clients: ${LISTINGS} listings of a ${count(ENTRIES)}-entry folder, ${STALLED} clients that never read a 512 MiB file (ranged serve as a child, nginx as the peer)`,
      measurements: [],
      ratios: [],
    },
    targets: [],
    stalled: [],
    odd: [],
  };
  try {
    writeFiles(run);
    await listingPart(run, join(dir, 'nginx-autoindex'));
    await stalledPart(run, join(dir, 'nginx'));
    await cutPart(run);
    if (run.odd.length > 0) {
      for (const line of run.odd) ctx.log(`  hostile  ${line}`);
      run.section.measurements.push(
        measurement(
          'hostile-notes',
          'ranged: stderr lines or exits seen',
          'lines',
          [run.odd.length],
          { text: run.odd.join(' | ').slice(0, 2_000) },
        ),
      );
    }
    return run.section;
  } finally {
    for (const set of run.stalled) set.destroy();
    await Promise.allSettled(run.targets.map((t) => t.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The folder of 100,000 empty files (timed), the small file and a sparse 512 MiB file. */
function writeFiles(run: Run): void {
  const started = performance.now();
  const folder = join(run.root, 'many');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < ENTRIES; i++) {
    closeSync(openSync(join(folder, `f${String(i).padStart(6, '0')}.txt`), 'w'));
  }
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(join(run.root, SMALL_PATH.slice(1)), SMALL_BODY);
  const fd = openSync(join(run.root, BIG_PATH.slice(1)), 'w');
  try {
    ftruncateSync(fd, BIG_SIZE); // sparse: reads zeros, which is all a client that never reads gets
  } finally {
    closeSync(fd);
  }
  run.ctx.log(`  hostile  ${count(ENTRIES)} empty files created in ${seconds.toFixed(1)} s`);
  run.section.measurements.push(
    measurement('hostile', `fixture: create ${count(ENTRIES)} empty files`, 's', [seconds]),
  );
}

async function listingPart(run: Run, nginxDir: string): Promise<void> {
  const { config, log } = run.ctx;
  const rounds = config.quick ? 2 : 3;
  const ranged = await startRanged(run, []);
  const nginx = await startNginxTarget(run, nginxDir, true);
  await checkServes(ranged);
  await checkServes(nginx);
  // One listing first: checks the count, and warms the server up like the rounds that follow.
  const first = await fetchOnce(ranged.origin, FOLDER_PATH, {
    accept: JSON_ACCEPT,
    timeoutMs: 30_000,
    keepBody: true,
  });
  const total = first.status === 200 ? (JSON.parse(first.body) as { total?: number }).total : -1;
  if (total !== ENTRIES) {
    throw new Error(
      `Cannot measure listings: ranged lists ${total} entries of ${ENTRIES} (status ${first.status})`,
    );
  }
  const rssBefore = await currentRss(ranged.pid);
  const results = new Map<Target, ListingRound[]>([
    [ranged, []],
    [nginx, []],
  ]);
  for (let round = 0; round < rounds; round++) {
    // A new entry (a dot name, so not listed) changes the folder's mtime: this round reads the
    // folder again instead of reusing the previous round's read.
    writeFileSync(join(run.root, 'many', `.round-${round}`), '');
    // nginx builds each 10 MiB autoindex page in its one process: one round is enough to see it.
    const targets = round === 0 ? [ranged, nginx] : [ranged];
    for (const target of targets) {
      const result = await listingRound(target, round);
      results.get(target)?.push(result);
      const p = summarise(result.probes);
      log(
        `  hostile  listings round ${round + 1} ${target.name.padEnd(6)} ${LISTINGS} in ${(result.ms / 1000).toFixed(2)} s (${(result.bytes / MiB).toFixed(1)} MiB), small file: median ${p.median.toFixed(1)} ms, max ${p.max.toFixed(1)} ms over ${p.count}${p.failed > 0 ? `, ${p.failed} failed (${p.errors.join(', ')})` : ''}${result.failures.length > 0 ? `; listings failed: ${result.failures.join(' ')}` : ''}`,
      );
    }
  }
  const rangedPeak = await peakRss(ranged.pid);
  const nginxPeak = await peakRss(nginx.pid);
  const { section } = run;
  const labels = { ranged: 'ranged (10 HTML + 10 JSON)', nginx: 'nginx autoindex (20 HTML)' };
  const worst = new Map<Target, number>();
  const typical = new Map<Target, number>();
  for (const target of [ranged, nginx]) {
    const rows = results.get(target) ?? [];
    const failures = rows.flatMap((r) => r.failures);
    section.measurements.push(
      measurement(
        'hostile-listing-wall',
        `${labels[target.name]}: ${LISTINGS} listings, wall`,
        's',
        rows.map((r) => r.ms / 1000),
        failures.length > 0 ? { failedListings: failures.join(' ') } : undefined,
      ),
    );
    const all = summarise(rows.flatMap((r) => r.probes));
    typical.set(target, all.median);
    worst.set(target, all.failed > 0 ? Number.NaN : all.max);
    section.measurements.push(
      ...latencyRows(
        'hostile-listing-small',
        `${target.name}: small file during listings`,
        rows.map((r) => r.probes),
      ),
    );
  }
  section.measurements.push(
    measurement(
      'hostile-listing-rss',
      'ranged: peak RSS (VmHWM), listings',
      'MiB',
      [(rangedPeak ?? Number.NaN) / MiB],
      { rssBeforeMiB: mib(rssBefore) },
    ),
    measurement('hostile-listing-rss', 'nginx: peak RSS (VmHWM), autoindex', 'MiB', [
      (nginxPeak ?? Number.NaN) / MiB,
    ]),
  );
  section.ratios.push(
    check(
      'hostile.listing.small.max',
      `hostile: ranged small-file answer during ${LISTINGS} listings (max)`,
      worst.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: LATENCY_LIMIT_MS },
      'ms',
    ),
    check(
      'hostile.listing.rss',
      `hostile: ranged peak RSS with ${LISTINGS} listings of ${count(ENTRIES)}`,
      (rangedPeak ?? Number.NaN) / MiB,
      { issue: 9, op: '<', limit: LISTING_RSS_LIMIT_MIB },
      'MiB',
    ),
    ratio(
      'hostile.listing.small.median.ranged/nginx',
      'hostile: small-file median during listings, ranged / nginx autoindex (lower is better)',
      typical.get(ranged) ?? Number.NaN,
      typical.get(nginx) ?? Number.NaN,
    ),
  );
  noteTrouble(run, 'listing server', ranged);
  await ranged.stop();
  await nginx.stop();
}

async function stalledPart(run: Run, nginxDir: string): Promise<void> {
  const { config, log } = run.ctx;
  const plateauMaxMs = config.quick ? 6_000 : 10_000;
  // The default send timeout, said out loud: the measurement must end before it cuts anyone.
  const ranged = await startRanged(run, ['--send-timeout', '30']);
  const nginx = await startNginxTarget(run, nginxDir, false);
  const added = new Map<Target, number>();
  const worst = new Map<Target, number>();
  const typical = new Map<Target, number>();
  const { section } = run;
  for (const target of [ranged, nginx]) {
    await checkServes(target);
    const r = await stalledRun(run, target, plateauMaxMs);
    const all = summarise(r.probes);
    const held = summarise(r.probes.filter((p) => p.at >= r.acceptedAt));
    added.set(target, (r.rssAfter - r.rssBefore) / MiB);
    // The floor is on the steady state: while the 300 are being accepted, the server copies
    // ~4 MiB into each one's kernel send buffer (no sendfile in Node), ~1.2 GB in all; that ramp
    // is reported beside it (hostile-stalled-small), not held to the floor.
    worst.set(target, all.failed > 0 || held.failed > 0 ? Number.NaN : held.max);
    typical.set(target, all.median);
    const notes: Record<string, number | string> = {
      rssBeforeMiB: mib(r.rssBefore),
      rssAfterMiB: mib(r.rssAfter),
      rssPeakMiB: mib(r.rssPeak),
      waitedS: seconds(r.waitedMs),
      stable: r.stable ? 'yes' : 'no (bound reached)',
      accepted: r.accepted,
      answered200: r.answered,
      kernelSendQMiB: mib(r.serverSendQ),
    };
    if (r.connectErrors.length > 0) notes.connectErrors = r.connectErrors.join(' ');
    if (r.otherStatus.length > 0) notes.otherStatus = r.otherStatus.join(' | ');
    section.measurements.push(
      measurement(
        'hostile-stalled-rss',
        `${target.name}: RSS added by ${STALLED} stalled clients`,
        'MiB',
        [(r.rssAfter - r.rssBefore) / MiB],
        notes,
      ),
      measurement(
        'hostile-stalled-accept',
        `${target.name}: all ${STALLED} accepted after`,
        's',
        [r.acceptedAt / 1000],
        { accepted: r.accepted },
      ),
      ...latencyRows('hostile-stalled-small', `${target.name}: small file, ${STALLED} stalled`, [
        r.probes,
      ]),
      ...latencyRows('hostile-stalled-held-small', `${target.name}: small file once all accepted`, [
        r.probes.filter((p) => p.at >= r.acceptedAt),
      ]),
    );
    log(
      `  hostile  stalled ${target.name.padEnd(6)} ${r.accepted}/${STALLED} accepted after ${seconds(r.acceptedAt)} s; RSS ${mib(r.rssBefore)} → ${mib(r.rssAfter)} MiB (peak ${mib(r.rssPeak)}, ${r.stable ? 'stable' : 'still moving'} after ${seconds(r.waitedMs)} s); kernel send queues ${mib(r.serverSendQ)} MiB; small file: median ${all.median.toFixed(1)} ms, max ${all.max.toFixed(1)} ms over ${all.count}${all.failed > 0 ? `, ${all.failed} failed (${all.errors.join(', ')})` : ''}; once all accepted: median ${held.median.toFixed(1)} ms, max ${held.max.toFixed(1)} ms over ${held.count}; ${r.answered} answered 200${r.connectErrors.length > 0 ? `; connect errors: ${r.connectErrors.join(' ')}` : ''}${r.otherStatus.length > 0 ? `; other: ${r.otherStatus.join(' | ')}` : ''}`,
    );
  }
  section.ratios.push(
    check(
      'hostile.stalled.rss',
      `hostile: ranged RSS added by ${STALLED} clients that never read`,
      added.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: STALLED_RSS_LIMIT_MIB },
      'MiB',
    ),
    check(
      'hostile.stalled.small.max',
      `hostile: ranged small-file answer once ${STALLED} stalled clients are in (max)`,
      worst.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: LATENCY_LIMIT_MS },
      'ms',
    ),
    check(
      'hostile.stalled.rss.nginx',
      `hostile: nginx RSS added by ${STALLED} clients that never read`,
      added.get(nginx) ?? Number.NaN,
      undefined,
      'MiB',
    ),
    check(
      'hostile.stalled.small.max.nginx',
      `hostile: nginx small-file answer once ${STALLED} stalled clients are in (max)`,
      worst.get(nginx) ?? Number.NaN,
      undefined,
      'ms',
    ),
    ratio(
      'hostile.stalled.small.median.ranged/nginx',
      'hostile: small-file median with stalled clients, ranged / nginx (lower is better)',
      typical.get(ranged) ?? Number.NaN,
      typical.get(nginx) ?? Number.NaN,
    ),
  );
  noteTrouble(run, 'stalled server', ranged);
  await ranged.stop();
  await nginx.stop();
}

async function cutPart(run: Run): Promise<void> {
  const ranged = await startRanged(run, ['--send-timeout', String(CUT_SEND_TIMEOUT_S)]);
  await checkServes(ranged);
  const cut = await cutRun(run, ranged);
  run.section.measurements.push(
    measurement(
      'hostile-cut',
      `ranged --send-timeout ${CUT_SEND_TIMEOUT_S}: all ${STALLED} cut after`,
      's',
      [cut.lastCutMs / 1000],
      { connected: cut.connected, left: cut.left, firstCutS: seconds(cut.firstCutMs) },
    ),
  );
  run.section.ratios.push(
    check(
      'hostile.cut',
      `hostile: ${STALLED} stalled clients all cut (--send-timeout ${CUT_SEND_TIMEOUT_S}) after`,
      cut.left === 0 ? cut.lastCutMs / 1000 : Number.NaN,
      undefined,
      's',
    ),
  );
  run.ctx.log(
    `  hostile  cut: ${cut.connected - cut.left}/${cut.connected} closed by the server; first after ${seconds(cut.firstCutMs)} s, all after ${seconds(cut.lastCutMs)} s (send timeout ${CUT_SEND_TIMEOUT_S} s, counted from the moment all had connected)`,
  );
  noteTrouble(run, 'cut server', ranged);
  await ranged.stop();
}

function noteTrouble(run: Run, what: string, target: Target): void {
  const trouble = target.trouble();
  if (trouble !== '') run.odd.push(`${what}: ${trouble}`);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function mib(bytes: number | undefined): number {
  return bytes === undefined ? Number.NaN : Number((bytes / MiB).toFixed(1));
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(2));
}

/** The CLI to run: this build's, or the one next to BENCH_RANGED's server.js. */
function cliMain(config: BenchConfig): string {
  if (config.rangedModule !== undefined) {
    return join(dirname(config.rangedModule), '..', 'cli', 'main.js');
  }
  return fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
}

/**
 * `ranged serve ROOT --port 0 --quiet ARGS` as a child; its URL is read from the line it prints.
 * A watchdog kills it if this process dies without cleaning up (as peers.ts does for nginx).
 */
async function startRanged(run: Run, args: string[]): Promise<Target> {
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

async function startNginxTarget(run: Run, workDir: string, autoindex: boolean): Promise<Target> {
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

async function checkServes(target: Target): Promise<void> {
  const res = await fetchOnce(target.origin, SMALL_PATH, { timeoutMs: 5_000, keepBody: true });
  if (res.status !== 200 || res.body !== SMALL_BODY) {
    throw new Error(
      `Cannot measure ${target.name}: ${SMALL_PATH} answered ${res.status} with ${res.bytes} bytes`,
    );
  }
}

interface Fetched {
  /** 0 when the request failed or timed out. */
  status: number;
  bytes: number;
  /** From the request to the end of the body. */
  ms: number;
  body: string;
  error?: string;
}

/** One GET on a new connection (agent: false). Never rejects; a failure has status 0. */
function fetchOnce(
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
interface Probe {
  at: number;
  ms: number;
  ok: boolean;
  error?: string;
}

/**
 * Fetches the small file again and again (one at a time, a new connection each, PROBE_GAP_MS
 * apart) while `busy()` holds, at least `minCount` times, at most `maxMs`.
 */
async function probeWhile(
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
function summarise(probes: readonly Probe[]): {
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
function latencyRows(id: string, label: string, rounds: Probe[][]): Measurement[] {
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
function listingPaths(round: number): Array<{ path: string; accept: string }> {
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

interface ListingRound {
  ms: number;
  bytes: number;
  probes: Probe[];
  failures: string[];
}

/** One round: LISTINGS listings at once, small-file requests until they have all answered. */
async function listingRound(target: Target, round: number): Promise<ListingRound> {
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
async function socketCount(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return Number.NaN;
  }
  const links = await Promise.all(
    fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
  );
  return links.filter((link) => link.startsWith('socket:')).length;
}

/** Connections that asked for the big file and never read. */
class StalledSet {
  readonly sockets: Socket[] = [];
  readonly errors: string[] = [];
  connected = 0;

  /** Opens `count` connections, `batch` at a time, each sending one GET and never reading. */
  async open(port: number, count: number, batch = 50): Promise<void> {
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      await Promise.all(Array.from({ length: n }, () => this.#openOne(port)));
    }
  }

  #openOne(port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.pause(); // never read: libuv does not even start reading
      this.sockets.push(socket);
      const timer = setTimeout(resolve, 5_000);
      socket.once('connect', () => {
        this.connected++;
        socket.write(
          `GET ${BIG_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ranged-bench-stalled\r\n\r\n`,
        );
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (this.errors.length < 20) this.errors.push(error.code ?? error.message);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Reads the first bytes of each response (after the measurement) to check what the server
   * answered, then destroys the socket. Returns how many started with a 200 status line.
   */
  async statusLines(timeoutMs: number): Promise<{ ok: number; other: string[] }> {
    let ok = 0;
    const other = new Set<string>();
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) return resolve();
            const finish = (what?: string) => {
              if (what !== undefined) other.add(what);
              clearTimeout(timer);
              socket.destroy();
              resolve();
            };
            const timer = setTimeout(() => finish('no bytes'), timeoutMs);
            socket.once('data', (chunk: Buffer) => {
              const line = chunk.subarray(0, 200).toString('latin1').split('\r\n')[0] ?? '';
              if (/^HTTP\/1\.1 200 /.test(line)) {
                ok++;
                finish();
              } else finish(line);
            });
            socket.once('close', () => finish('closed'));
            socket.resume();
          }),
      ),
    );
    return { ok, other: [...other] };
  }

  destroy(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Established TCP connections `ss` selects, and the bytes in their Recv-Q and Send-Q. */
async function kernelConnections(
  filter: string,
): Promise<{ count: number; recv: number; send: number }> {
  const res = await run('ss', ['-Htn', 'state', 'established', filter], { timeoutMs: 5_000 });
  let count = 0;
  let recv = 0;
  let send = 0;
  for (const line of res.stdout.split('\n')) {
    const [r, s] = line.trim().split(/\s+/);
    if (r === undefined || s === undefined || !/^\d+$/.test(r)) continue;
    count++;
    recv += Number(r);
    send += Number(s);
  }
  return { count, recv, send };
}

interface StalledResult {
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  /** From the start of the plateau wait until it ended. */
  waitedMs: number;
  stable: boolean;
  /** Connections the server took (its socket count over the one before). */
  accepted: number;
  /** When it had taken them all, from the first connection (performance.now() in `probes`). */
  acceptedAt: number;
  answered: number;
  otherStatus: string[];
  connectErrors: string[];
  serverSendQ: number;
  /** `at` relative to the first connection. */
  probes: Probe[];
}

/**
 * Opens STALLED non-reading connections to the big file with small-file requests running the
 * whole time, waits until the server has taken them all (its socket count, bounded 15 s) and its
 * RSS stops growing (flat within 1 MiB for 2 s, at most `maxMs`), then checks that each got a 200,
 * and closes them.
 */
async function stalledRun(run: Run, target: Target, maxMs: number): Promise<StalledResult> {
  // A few requests first, so the before figure is a warmed-up server's.
  for (let i = 0; i < 20; i++) await fetchOnce(target.origin, SMALL_PATH, { timeoutMs: 5_000 });
  await sleep(300);
  const rssBefore = (await currentRss(target.pid)) ?? Number.NaN;
  const base = await socketCount(target.pid);
  const set = new StalledSet();
  run.stalled.push(set);
  let busy = true;
  const t0 = performance.now();
  const probes = probeWhile(target.origin, () => busy, { minCount: 50, maxMs: maxMs + 30_000 });
  try {
    await set.open(target.port, STALLED);
    // The probe's own connection may be counted too: at most one.
    let accepted = (await socketCount(target.pid)) - base;
    const acceptDeadline = performance.now() + 15_000;
    while (accepted < STALLED && performance.now() < acceptDeadline) {
      await sleep(50);
      accepted = (await socketCount(target.pid)) - base;
    }
    const acceptedAt = performance.now() - t0;
    accepted = Math.min(accepted, STALLED);
    const started = performance.now();
    const samples: Array<{ at: number; rss: number }> = [];
    let stable = false;
    let rssPeak = 0;
    while (performance.now() - started < maxMs) {
      await sleep(200);
      const rss = (await currentRss(target.pid)) ?? Number.NaN;
      const at = performance.now() - started;
      samples.push({ at, rss });
      rssPeak = Math.max(rssPeak, rss);
      const window = samples.filter((s) => s.at >= at - 2_000).map((s) => s.rss);
      if (at >= 2_000 && Math.max(...window) - Math.min(...window) <= MiB) {
        stable = true;
        break;
      }
    }
    const waitedMs = performance.now() - started;
    const rssAfter = samples.at(-1)?.rss ?? Number.NaN;
    const server = await kernelConnections(`sport = :${target.port}`);
    busy = false;
    const p = (await probes).map((probe) => ({ ...probe, at: probe.at - t0 }));
    const status = await set.statusLines(5_000);
    return {
      rssBefore,
      rssAfter,
      rssPeak,
      waitedMs,
      stable,
      accepted,
      acceptedAt,
      answered: status.ok,
      otherStatus: status.other,
      connectErrors: set.errors,
      serverSendQ: server.send,
      probes: p,
    };
  } finally {
    busy = false;
    set.destroy();
    await probes;
  }
}

/**
 * Opens STALLED non-reading connections against a server with a short send timeout and times,
 * from the moment they have all connected, how long until the server has closed them all: until
 * the kernel lists none of them as established on the server's side (a closed socket with unsent
 * bytes is in FIN-WAIT, not established). The kernel's list also holds the connections the server
 * has not taken yet, so a slow accept cannot hide any. Bounded to the send timeout plus 25 s.
 */
async function cutRun(
  run: Run,
  target: Target,
): Promise<{ connected: number; left: number; firstCutMs: number; lastCutMs: number }> {
  const set = new StalledSet();
  run.stalled.push(set);
  try {
    await set.open(target.port, STALLED);
    const started = performance.now();
    const connected = set.connected;
    let firstCutMs = Number.NaN;
    let lastCutMs = Number.NaN;
    let left = connected;
    while (performance.now() - started < CUT_SEND_TIMEOUT_S * 1000 + 25_000) {
      left = (await kernelConnections(`sport = :${target.port}`)).count;
      const at = performance.now() - started;
      if (left < connected && Number.isNaN(firstCutMs)) firstCutMs = at;
      if (left === 0) {
        lastCutMs = at;
        break;
      }
      await sleep(100);
    }
    return { connected, left, firstCutMs, lastCutMs };
  } finally {
    set.destroy();
  }
}
