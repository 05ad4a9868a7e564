/**
 * A throwaway Ceph cluster on loopback that speaks S3 through the RADOS Gateway, for the tests, the
 * benchmark and a person. One ceph-mon, one ceph-osd on memstore (objects live in RAM, pool size
 * 1), one radosgw; no ceph-mgr. Needs the Debian packages ceph-mon ceph-osd radosgw ceph-common.
 *
 * Everything (config, one cephx keyring, data, logs, admin sockets, pid files) lives in one mkdtemp
 * folder, passed with `-c <dir>/ceph.conf` to every command: /etc/ceph and /var/lib/ceph are never
 * read or written, and several clusters run side by side (random fsid, free ports).
 *
 * - Library: `startCeph()` returns the S3 endpoint, credentials and a bucket; `stop()` stops the
 *   daemons it started (SIGTERM, then SIGKILL) and removes the folder. A detached watchdog
 *   (`ceph.js reap`) does the same if this process dies without calling stop().
 * - `node dist/scripts/ceph.js`: prints the `export AWS_...` lines, stays up until Ctrl-C/SIGTERM.
 * - `node dist/scripts/ceph.js run -- CMD ARGS...`: runs CMD against the cluster (AWS_* and
 *   RANGED_TEST_S3 set), stops it, exits with CMD's code.
 * Exit 2 when a Ceph binary is missing, 1 when the cluster does not start.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface Ceph {
  /** `http://127.0.0.1:PORT`, the RADOS Gateway. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A bucket that exists, empty at start. */
  bucket: string;
  /** The cluster's folder: ceph.conf, keyring, log/, data. */
  dir: string;
  /** Stops the daemons and removes `dir`. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface CephOptions {
  /** The OSD's memstore size (RAM, in bytes). @default env CEPH_MEMSTORE_BYTES, else 3 GiB */
  memstoreBytes?: number;
  /** Progress lines (`ceph: ...`). @default none */
  log?: (line: string) => void;
  /** Gives up starting after this many ms. @default 120_000 */
  timeoutMs?: number;
  /** Stops starting (and what was started) when aborted. */
  signal?: AbortSignal;
  /** Lines appended to ceph.conf, e.g. `[client.rgw]\nrgw gc obj min wait = 60`. */
  extraConfig?: string;
  /**
   * Turns Nagle's algorithm off on radosgw's connections (beast's `tcp_nodelay=1`). Without it,
   * every request after the first on a keep-alive connection waits ~40 ms, the client's delayed
   * ACK: the response's head arrives at once and its body ~40 ms later (measured on 16.2 with
   * @aws-sdk/client-s3 and wrk: 44 ms per 1 KiB range over one connection, 2 ms with it).
   * @default false
   */
  rgwTcpNoDelay?: boolean;
}

export const CEPH_ACCESS_KEY_ID = 'RANGEDTESTACCESSKEY0';
export const CEPH_SECRET_ACCESS_KEY = 'rangedTestSecretKey0rangedTestSecretKey0';
export const CEPH_REGION = 'us-east-1';
export const CEPH_BUCKET = 'ranged-test';
const PACKAGES = 'ceph-mon ceph-osd radosgw ceph-common';
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-authtool', 'radosgw-admin', 'ceph'];
const GiB = 1024 ** 3;

/** A Ceph binary is not installed: `message` is the one line to show. */
export class CephMissingError extends Error {
  override name = 'CephMissingError';
}

/** An S3 client for this cluster (path-style, checksums only where S3 requires them). */
export function cephS3Client(target: {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}): S3Client {
  // The SDK warns once per process that its 2027 releases will need Node 22; this project is on 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The AWS_* variables (and RANGED_TEST_S3) that point a program at `ceph`. */
export function cephEnv(ceph: Omit<Ceph, 'dir' | 'stop'>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: ceph.endpoint,
    AWS_ACCESS_KEY_ID: ceph.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey,
    AWS_REGION: ceph.region,
    RANGED_TEST_S3: `s3://${ceph.bucket}`,
  };
}

/** Absolute paths of the Ceph binaries; throws CephMissingError naming the first one missing. */
function findBinaries(): Record<string, string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  const found: Record<string, string> = {};
  for (const name of BINARIES) {
    for (const dir of dirs) {
      if (dir === '') continue;
      try {
        accessSync(join(dir, name), fsConstants.X_OK);
        found[name] = join(dir, name);
        break;
      } catch {}
    }
    if (found[name] === undefined)
      throw new CephMissingError(
        `ceph: ${name} not found: install the Debian packages ${PACKAGES}`,
      );
  }
  return found;
}

/** The line to show when a Ceph binary is missing (`ceph: radosgw not found: ...`), else false. */
export function cephMissing(): string | false {
  try {
    findBinaries();
    return false;
  } catch (error) {
    if (error instanceof CephMissingError) return error.message;
    throw error;
  }
}

/** Two or more distinct free ports on 127.0.0.1 (held together, so never the same twice). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Whether something answers HTTP on the port (any status). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 2_000 });
    req.once('response', (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** The last `lines` lines of a file under a header, or '' when it is absent or empty. */
function tail(file: string, lines = 15): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  if (text.trim() === '') return '';
  const last = text.trimEnd().split('\n').slice(-lines);
  return `\n--- ${file} (last ${last.length} lines)\n${last.join('\n')}`;
}

/** Peak resident memory (VmHWM) of a live process, in bytes. */
function peakMemory(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function memstoreBytes(option: number | undefined): number {
  const fromEnv = process.env.CEPH_MEMSTORE_BYTES;
  const bytes = option ?? (fromEnv === undefined || fromEnv === '' ? 3 * GiB : Number(fromEnv));
  if (!Number.isSafeInteger(bytes) || bytes < 256 * 1024 ** 2)
    throw new Error(`ceph: memstore size must be a whole number of bytes >= 256 MiB, not ${bytes}`);
  return bytes;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  /** Its log file and its stdout/stderr file, for error messages. */
  logs: string[];
  exited: Promise<void>;
}

/** Env for Ceph commands: CEPH_ARGS / CEPH_CONF would add to or replace our `-c`. */
function cephProcessEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CEPH_ARGS;
  delete env.CEPH_CONF;
  delete env.CEPH_KEYRING;
  return env;
}

/** The daemons of one cluster and the watchdog that cleans up if this process dies. */
class Cluster {
  readonly daemons: Daemon[] = [];
  readonly #reaper: ChildProcess;
  #stopping: Promise<void> | undefined;
  /** Set while starting: called when a daemon exits on its own. */
  onUnexpectedExit: ((daemon: Daemon, code: number | null, signal: string | null) => void) | null =
    null;

  readonly dir: string;
  readonly bin: Record<string, string>;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal | undefined;

  constructor(
    dir: string,
    bin: Record<string, string>,
    log: (line: string) => void,
    signal: AbortSignal | undefined,
  ) {
    this.dir = dir;
    this.bin = bin;
    this.log = log;
    this.signal = signal;
    this.#reaper = spawn(process.execPath, [fileURLToPath(import.meta.url), 'reap', dir], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.#reaper.on('error', () => {});
    this.#reaper.stdin?.on('error', () => {});
    this.#reaper.unref();
    (this.#reaper.stdin as unknown as { unref(): void } | null)?.unref();
  }

  get conf(): string {
    return join(this.dir, 'ceph.conf');
  }

  /** Runs a Ceph command to completion; rejects with its output and `logs`' tails. */
  run(name: string, args: string[], timeoutMs: number, logs: string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.bin[name] ?? name,
        args,
        {
          env: cephProcessEnv(),
          timeout: timeoutMs,
          maxBuffer: 16 * 1024 * 1024,
          ...(this.signal === undefined ? {} : { signal: this.signal }),
        },
        (error, stdout, stderr) => {
          if (error === null) resolve(stdout);
          else
            reject(
              new Error(
                `ceph: ${name} ${args.join(' ')} failed: ${error.message.trim()}\n${stderr}${logs.map((file) => tail(file)).join('')}`,
              ),
            );
        },
      );
    });
  }

  /** Starts a daemon in the foreground, in its own process group, output to log/<name>.out. */
  spawnDaemon(name: string, bin: string, args: string[], logFile: string): Daemon {
    const out = join(this.dir, 'log', `${name}.out`);
    const fd = openSync(out, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.bin[bin] ?? bin, args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: cephProcessEnv(),
      });
    } finally {
      closeSync(fd);
    }
    child.unref();
    const daemon: Daemon = {
      name,
      child,
      logs: [logFile, out],
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    child.once('exit', (code, signal) => {
      if (this.#stopping === undefined) this.onUnexpectedExit?.(daemon, code, signal);
    });
    child.on('error', () => {});
    this.daemons.push(daemon);
    if (child.pid !== undefined) this.#reaper.stdin?.write(`${child.pid}\n`);
    return daemon;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const peaks: string[] = [];
    for (const daemon of this.daemons) {
      const peak = daemon.child.pid === undefined ? undefined : peakMemory(daemon.child.pid);
      if (peak !== undefined) peaks.push(`${daemon.name} ${(peak / 1024 ** 2).toFixed(0)} MiB`);
    }
    if (peaks.length > 0) this.log(`ceph: peak memory: ${peaks.join(', ')}`);
    // radosgw first (it talks to the others), then the OSD, then the monitor.
    for (const daemon of [...this.daemons].reverse()) await stopProcess(daemon);
    this.#reaper.stdin?.end('done\n');
    await rm(this.dir, { recursive: true, force: true });
    this.log(`ceph: stopped, ${this.dir} removed`);
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
async function stopProcess(daemon: Daemon): Promise<void> {
  const { child } = daemon;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitsWithin(daemon, 10_000)) return;
  child.kill('SIGKILL');
  await exitsWithin(daemon, 5_000);
}

/** Whether the daemon exits within `ms` (the timer does not outlive the answer). */
async function exitsWithin(daemon: Daemon, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([daemon.exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function config(
  dir: string,
  fsid: string,
  monPort: number,
  rgwPort: number,
  memstore: number,
  noDelay: boolean,
) {
  return `# A throwaway cluster made by scripts/ceph.ts; everything lives in this folder.
[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/keyring
run dir = ${dir}/run
admin socket = ${dir}/run/$name.$pid.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
crash dir = ${dir}/crash
mon data = ${dir}/mon
mon cluster log file = ${dir}/log/cluster.$channel.log
mon debug dump location = ${dir}/log/$name.tdump
# The folder's disk may be fuller than a real monitor would accept.
mon data avail warn = 2
mon data avail crit = 1
mon allow pool size one = true
# A map change (each pool radosgw makes) is proposed within 50 ms, not 1 s: up in 2 s, not 15 s.
paxos propose interval = 0.05
mon warn on pool no redundancy = false
osd data = ${dir}/osd
osd journal = ${dir}/osd/journal
osd objectstore = memstore
# memstore keeps every object in RAM (about 2 bytes of RAM per byte stored, measured with 16.2),
# and reports this size: at 95 % of it the OSD is full and every write waits, forever (even a
# DELETE, and the garbage collection that would free space). Objects that were deleted or
# overwritten count until radosgw's garbage collection removes them (below).
memstore device bytes = ${memstore}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0

[osd]
public addr = 127.0.0.1
cluster addr = 127.0.0.1

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}${noDelay ? ' tcp_nodelay=1' : ''}
rgw data = ${dir}/rgw
rgw dynamic resharding = false
# No lifecycle thread: it sleeps in 5 s steps, which held radosgw's SIGTERM for up to 10 s.
rgw enable lc threads = false
# Deleted and overwritten objects give their RAM back within 5 to 10 s, not 2 h. The price: a GET
# still streaming an object that was deleted or overwritten more than 5 s ago is cut short.
rgw gc obj min wait = 5
rgw gc processor period = 5
`;
}

/** Starts a cluster (about 2 s); on failure stops what it started and throws with log tails. */
export async function startCeph(options: CephOptions = {}): Promise<Ceph> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = started + timeoutMs;
  const left = () => Math.max(1, Math.ceil(deadline - performance.now()));
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const bin = findBinaries();
  const memstore = memstoreBytes(options.memstoreBytes);
  const dir = await mkdtemp(join(tmpdir(), 'ranged-ceph-'));
  const cluster = new Cluster(dir, bin, log, options.signal);
  let failed: Error | undefined;
  cluster.onUnexpectedExit = (daemon, code, signal) => {
    failed = new Error(
      `ceph: ${daemon.name} exited while starting (${signal ?? `code ${code}`})${daemon.logs.map((f) => tail(f)).join('')}`,
    );
  };
  const cancelled = () => {
    if (options.signal?.aborted) throw new Error('ceph: start cancelled');
    if (failed !== undefined) throw failed;
  };
  /** Polls `check` every 100 ms until it is true; throws with `logs`' tails at the deadline. */
  const until = async (what: string, logs: string[], check: () => Promise<boolean>) => {
    for (;;) {
      cancelled();
      if (await check()) return;
      cancelled();
      if (performance.now() > deadline)
        throw new Error(
          `ceph: ${what} did not happen within ${timeoutMs / 1000} s${logs.map((f) => tail(f)).join('')}`,
        );
      await sleep(100);
    }
  };
  try {
    log(`ceph: starting a cluster in ${dir}`);
    await Promise.all(['run', 'log', 'mon', 'osd', 'rgw', 'crash'].map((d) => mkdir(join(dir, d))));
    const [monPort = 0, rgwPort = 0] = await freePorts(2);
    const conf = cluster.conf;
    const text = config(
      dir,
      randomUUID(),
      monPort,
      rgwPort,
      memstore,
      options.rgwTcpNoDelay ?? false,
    );
    await writeFile(conf, `${text}${options.extraConfig ?? ''}\n`);
    const keyring = join(dir, 'keyring');
    const keys: [string, Record<string, string>][] = [
      ['mon.', { mon: 'allow *' }],
      ['client.admin', { mon: 'allow *', osd: 'allow *', mgr: 'allow *' }],
      ['osd.0', { mon: 'allow profile osd', osd: 'allow *', mgr: 'allow profile osd' }],
      ['client.rgw', { mon: 'allow rw', osd: 'allow rwx', mgr: 'allow rw' }],
    ];
    for (const [i, [name, caps]] of keys.entries()) {
      const capArgs = Object.entries(caps).flatMap(([service, cap]) => ['--cap', service, cap]);
      const create = i === 0 ? ['--create-keyring'] : [];
      await cluster.run(
        'ceph-authtool',
        [keyring, ...create, '--gen-key', '-n', name, ...capArgs],
        left(),
      );
    }

    // Monitor: its store holds every key of the keyring (the cephx database).
    const monLog = join(dir, 'log', 'mon.a.log');
    await cluster.run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--keyring', keyring], left(), [
      monLog,
    ]);
    const mon = cluster.spawnDaemon('ceph-mon', 'ceph-mon', ['-c', conf, '-i', 'a', '-f'], monLog);

    // OSD: registered first, then made with the same uuid (otherwise it never boots).
    const osdUuid = randomUUID();
    const cli = ['-c', conf, '-n', 'client.admin'];
    await until('the monitor answering', mon.logs, async () => {
      try {
        const args = [...cli, '--connect-timeout', '5', 'osd', 'new', osdUuid, '0'];
        await cluster.run('ceph', args, Math.min(left(), 15_000));
        return true;
      } catch {
        return false;
      }
    });
    log(`ceph: monitor up on 127.0.0.1:${monPort} (${seconds()})`);
    const osdLog = join(dir, 'log', 'osd.0.log');
    await cluster.run(
      'ceph-osd',
      ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid],
      left(),
      [osdLog],
    );
    const osd = cluster.spawnDaemon('ceph-osd', 'ceph-osd', ['-c', conf, '-i', '0', '-f'], osdLog);

    // radosgw opens its port once it has made its pools, which needs the OSD up.
    const rgwLog = join(dir, 'log', 'client.rgw.log');
    const rgw = cluster.spawnDaemon(
      'radosgw',
      'radosgw',
      ['-c', conf, '-n', 'client.rgw', '-f'],
      rgwLog,
    );
    await until(`radosgw answering on 127.0.0.1:${rgwPort}`, [...osd.logs, ...rgw.logs], () =>
      answers(rgwPort),
    );
    log(`ceph: radosgw up on 127.0.0.1:${rgwPort} (${seconds()})`);

    await cluster.run(
      'radosgw-admin',
      [
        ...cli,
        'user',
        'create',
        '--uid=ranged',
        '--display-name=ranged',
        `--access-key=${CEPH_ACCESS_KEY_ID}`,
        `--secret=${CEPH_SECRET_ACCESS_KEY}`,
      ],
      left(),
    );
    const ceph: Ceph = {
      endpoint: `http://127.0.0.1:${rgwPort}`,
      accessKeyId: CEPH_ACCESS_KEY_ID,
      secretAccessKey: CEPH_SECRET_ACCESS_KEY,
      region: CEPH_REGION,
      bucket: CEPH_BUCKET,
      dir,
      stop: () => cluster.stop(),
    };
    const s3 = cephS3Client(ceph);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: CEPH_BUCKET }), {
        abortSignal: AbortSignal.timeout(left()),
      });
    } catch (error) {
      throw new Error(`ceph: creating bucket ${CEPH_BUCKET} failed: ${error}${tail(rgwLog)}`);
    } finally {
      s3.destroy();
    }
    cancelled();
    cluster.onUnexpectedExit = (daemon, code, signal) =>
      log(
        `ceph: ${daemon.name} exited (${signal ?? `code ${code}`}); see ${daemon.logs.join(' ')}`,
      );

    log(`ceph: ready in ${seconds()}`);
    return ceph;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * `ceph.js reap DIR`: the watchdog. Reads the daemons' pids on stdin; when stdin closes without a
 * final `done` (its parent died), stops those still running from DIR and removes DIR.
 */
async function reap(dir: string): Promise<void> {
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) input += chunk;
  const lines = input.split('\n').filter((line) => line !== '');
  if (lines.at(-1) === 'done') return;
  // Only a process whose command line names DIR is ours (the pid may have been reused).
  const ours = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  };
  const pids = lines.map(Number).filter((pid) => Number.isSafeInteger(pid) && pid > 0);
  // radosgw first, then the OSD, then the monitor, as stop() does.
  for (const pid of pids.reverse()) {
    for (const [signal, waitMs] of [
      ['SIGTERM', 10_000],
      ['SIGKILL', 5_000],
    ] as const) {
      if (!ours(pid)) break;
      try {
        process.kill(pid, signal);
      } catch {}
      const until = performance.now() + waitMs;
      while (ours(pid) && performance.now() < until) await sleep(50);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** `ceph.js` and `ceph.js run -- CMD...`. */
async function main(args: string[]): Promise<number> {
  if (args[0] === 'reap' && args[1] !== undefined) {
    await reap(args[1]);
    return 0;
  }
  const runIndex = args[0] === 'run' ? (args[1] === '--' ? 2 : 1) : -1;
  const command = runIndex >= 0 ? args.slice(runIndex) : [];
  if ((runIndex >= 0 && command.length === 0) || (runIndex < 0 && args.length > 0)) {
    process.stderr.write(
      'usage: node dist/scripts/ceph.js            start a cluster, print its env, stop on Ctrl-C\n' +
        '       node dist/scripts/ceph.js run -- CMD [ARGS...]   run CMD against a fresh cluster\n',
    );
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // A signal while starting cancels the start, which stops what it started.
  const starting = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
    signalled = signal;
    starting.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, (s: NodeJS.Signals) => onSignal(s));
  const signalCode = (signal: NodeJS.Signals) => 128 + (constants.signals[signal] ?? 0);

  let ceph: Ceph;
  try {
    // For a person, RGW as README's "Tuning RGW" advises; the tests keep its default.
    ceph = await startCeph({ log, signal: starting.signal, rgwTcpNoDelay: true });
  } catch (error) {
    if (signalled !== undefined) return signalCode(signalled);
    log(error instanceof Error ? error.message : String(error));
    return error instanceof CephMissingError ? 2 : 1;
  }
  if (signalled !== undefined) {
    await ceph.stop();
    return signalCode(signalled);
  }
  const env = cephEnv(ceph);

  if (runIndex < 0) {
    const exports = Object.entries(env).map(([name, value]) => `export ${name}=${value}\n`);
    process.stdout.write(
      `${exports.join('')}# bucket: s3://${ceph.bucket}\n# ceph -c ${ceph.dir}/ceph.conf -s\n`,
    );
    log('ceph: up; Ctrl-C stops it');
    const keepAlive = setInterval(() => {}, 1 << 30);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      onSignal = resolve;
    });
    clearInterval(keepAlive);
    log(`ceph: ${signal}, stopping`);
    await ceph.stop();
    return 0;
  }

  const [file = '', ...rest] = command;
  const child = spawn(file, rest, { stdio: 'inherit', env: { ...process.env, ...env } });
  // Ctrl-C reaches CMD through the terminal; a SIGTERM sent to us alone is passed on.
  onSignal = (signal) => {
    if (signal !== 'SIGINT') child.kill(signal);
  };
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      log(`ceph: cannot run ${file}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) =>
      resolve(exitCode ?? (signal === null ? 1 : signalCode(signal))),
    );
  });
  await ceph.stop();
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
