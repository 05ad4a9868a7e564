/**
 * Pieces of the s3 section (bench/s3.ts): the Ceph cluster's processes, the CPU each process used
 * during a run, the OSD's memstore space and radosgw's garbage collection, the objects, and the
 * wrk script that asks for 1 KiB at a random offset.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  cpuSeconds,
  machineBusySeconds,
  reapedChildrenCpuSeconds,
  run,
  sleep,
  track,
} from './procs.js';

const MiB = 1024 * 1024;

/** The daemons of one cluster from scripts/ceph.ts, found by their command lines. */
export interface CephProcs {
  conf: string;
  rgw: number;
  osd: number;
  /** The OSD's admin socket (`run/osd.0.PID.asok`). */
  osdSocket: string;
}

/**
 * The pids of radosgw and ceph-osd of the cluster in `dir` (every daemon of it runs with
 * `-c DIR/ceph.conf`; startCeph does not expose its pids), and the OSD's admin socket.
 */
export async function cephProcs(dir: string): Promise<CephProcs> {
  const conf = join(dir, 'ceph.conf');
  const found = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (!argv.includes(conf)) continue;
    const name = basename(argv[0] ?? '');
    if (name === 'radosgw' || name === 'ceph-osd') found.set(name, Number(entry));
  }
  const rgw = found.get('radosgw');
  const osd = found.get('ceph-osd');
  if (rgw === undefined || osd === undefined) {
    throw new Error(`Cannot find radosgw and ceph-osd running with -c ${conf}`);
  }
  const socket = (await readdir(join(dir, 'run'))).find((n) => n === `osd.0.${osd}.asok`);
  if (socket === undefined) throw new Error(`Cannot find the admin socket of osd.0 in ${dir}/run`);
  return { conf, rgw, osd, osdSocket: join(dir, 'run', socket) };
}

/** The OSD's memstore: bytes used (objects deleted but not yet collected count) and its size. */
export async function osdSpace(procs: CephProcs): Promise<{ used: number; total: number }> {
  const result = await run('ceph', ['--admin-daemon', procs.osdSocket, 'perf', 'dump'], {
    timeoutMs: 20_000,
  });
  if (result.code !== 0) {
    throw new Error(`Cannot read the OSD's counters: exit ${result.code}: ${result.stderr.trim()}`);
  }
  const osd = (JSON.parse(result.stdout) as { osd?: Record<string, number> }).osd ?? {};
  const used = osd.stat_bytes_used;
  const total = osd.stat_bytes;
  if (used === undefined || total === undefined) {
    throw new Error("Cannot read the OSD's counters: no osd.stat_bytes_used in its perf dump");
  }
  return { used, total };
}

/**
 * Runs radosgw's garbage collection now (`radosgw-admin gc process --include-all`, not after its
 * 5 s minimum wait) until the OSD holds at most `limit` bytes: deleted objects give their memstore
 * bytes (and their RAM, ~2 bytes per byte stored) back before the next round. Returns the ms it
 * took; throws after `timeoutMs` with the figures.
 */
export async function collectGarbage(
  procs: CephProcs,
  limit: number,
  timeoutMs = 60_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const gc = await run(
      'radosgw-admin',
      ['-c', procs.conf, '-n', 'client.admin', 'gc', 'process', '--include-all'],
      { timeoutMs: 60_000 },
    );
    if (gc.code !== 0) {
      throw new Error(`Cannot run radosgw's garbage collection: exit ${gc.code}: ${gc.stderr}`);
    }
    const { used } = await osdSpace(procs);
    const ms = performance.now() - started;
    if (used <= limit) return ms;
    if (ms > timeoutMs) {
      throw new Error(
        `Cannot free the store's memory: the OSD still holds ${(used / MiB).toFixed(0)} MiB after ${Math.round(ms / 1000)} s of garbage collection (at most ${(limit / MiB).toFixed(0)} MiB wanted)`,
      );
    }
    await sleep(500);
  }
}

/** Anyone may GET the bucket's objects, unsigned (curl and wrk go straight to RGW). */
export async function allowAnonymousGet(s3: S3Client, bucket: string): Promise<void> {
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:GetObject'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
}

/** Puts `size` bytes of `block` repeated (random bytes: nothing compresses them) at `key`. */
export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  size: number,
  block: Buffer,
): Promise<void> {
  const body = Buffer.allocUnsafe(size);
  for (let pos = 0; pos < size; pos += block.length) block.copy(body, pos, 0, size - pos);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ACL: 'public-read' }));
}

/** The object's size, or undefined when there is none. */
export async function objectSize(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<number | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      return undefined;
    }
    throw error;
  }
}

/** The sha256 of the object's bytes, read straight from the store. */
export async function objectSha256(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Bytes of the objects under `prefix` (what an upload store left behind). */
export async function bytesUnder(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) total += object.Size ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return total;
}

/**
 * Writes a wrk Lua script that asks for `length` bytes at a random offset of a `size`-byte object,
 * a new offset for every request (a fixed seed, so every run asks for the same sequence).
 */
export async function wrkRandomRangeScript(
  dir: string,
  name: string,
  size: number,
  length: number,
): Promise<string> {
  const path = join(dir, `${name}.lua`);
  await writeFile(
    path,
    [
      `-- ${length} bytes at a random offset of a ${size}-byte object, a new one for every request`,
      'math.randomseed(14)',
      'local headers = {}',
      'request = function()',
      `  local start = math.random(0, ${size - length})`,
      '  headers["Host"] = wrk.headers["Host"]',
      `  headers["Range"] = "bytes=" .. start .. "-" .. (start + ${length - 1})`,
      '  return wrk.format("GET", nil, headers)',
      'end',
      '',
    ].join('\n'),
  );
  return path;
}

/** CPU seconds used so far by each process that shares the machine during a run. */
export interface CpuReading {
  /** The server in front of RGW (ranged or the bare proxy); 0 when the client goes straight. */
  server: number;
  rgw: number;
  osd: number;
  /** The commands that ran to completion (curl, wrk, the SDK child): reaped children's CPU. */
  client: number;
  /** Every process on the machine. */
  machine: number;
  /** performance.now() */
  at: number;
}

export async function cpuReading(
  serverPid: number | undefined,
  procs: CephProcs,
): Promise<CpuReading> {
  const [server, rgw, osd, client, machine] = await Promise.all([
    serverPid === undefined ? Promise.resolve(0) : cpuSeconds(serverPid),
    cpuSeconds(procs.rgw),
    cpuSeconds(procs.osd),
    reapedChildrenCpuSeconds(),
    machineBusySeconds(),
  ]);
  return { server, rgw, osd, client, machine, at: performance.now() };
}

export interface CpuUsed {
  server: number;
  rgw: number;
  osd: number;
  client: number;
  /** The machine's busy CPU time less the four above: other work, including this process's. */
  others: number;
  /** Wall seconds between the two readings. */
  wall: number;
}

export function cpuUsed(before: CpuReading, after: CpuReading): CpuUsed {
  return {
    server: after.server - before.server,
    rgw: after.rgw - before.rgw,
    osd: after.osd - before.osd,
    client: after.client - before.client,
    others:
      after.machine -
      before.machine -
      (after.server - before.server) -
      (after.rgw - before.rgw) -
      (after.osd - before.osd) -
      (after.client - before.client),
    wall: (after.at - before.at) / 1000,
  };
}

const proxyChild = fileURLToPath(new URL('./s3-proxy-child.js', import.meta.url));

export interface BareProxy {
  origin: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The bare node:http pass-through (bench/s3-proxy-child.ts) in front of `store`. */
export async function startProxy(store: string): Promise<BareProxy> {
  // stdin is a pipe: the child exits when it closes, even if this process is killed.
  const child = track(
    spawn(process.execPath, [proxyChild, store], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 10_000) stderr += s;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('Cannot start the proxy: no port after 15 s')),
        15_000,
      );
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const found = /"port":(\d+)/.exec(out)?.[1];
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(Number(found));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`Cannot start the proxy: exited with ${signal ?? code}: ${stderr.trim()}`),
        );
      });
    });
    return { origin: `http://127.0.0.1:${port}`, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
