/**
 * The s3 section (issue 14): `ranged serve s3://BUCKET` in front of a real Ceph RGW (16.2,
 * memstore: scripts/ceph.ts, one cluster for the section, `tcp_nodelay=1`), against the same
 * requests sent straight to RGW, interleaved round by round in the same run:
 * - GET of a 256 MiB object (64 MiB with BENCH_QUICK), one curl, body to /dev/null, MB/s: through
 *   ranged, straight from RGW (path-style, unsigned: a bucket policy lets anyone GET), and through
 *   a bare node:http pass-through (bench/s3-proxy-child.ts: the Node ceiling, no floor);
 * - 1 KiB ranges at random offsets of a 10 MiB object, wrk with 32 connections (one thread) and a
 *   Lua script that draws a new offset for every request (the same seed for all), req/s, the same
 *   three paths, after a 20 s untimed run each (ranged's rate through the S3 client doubles over
 *   its first 20–30 s of load);
 * - a 1 GiB upload into the bucket (128 MiB with BENCH_QUICK): to `ranged serve s3://BUCKET
 *   --uploads --upload-token T` as the upload section sends it (an untimed tus creation POST, then
 *   the 8 MiB PATCHes in one curl over one connection), timed from the first PATCH until the object
 *   exists; against a direct multipart upload of the same 8 MiB chunk files (ranged's store uses
 *   8 MiB parts) by @aws-sdk/client-s3, set up as ranged sets it up, in a Node child
 *   (bench/s3-upload-child.ts), timed from CreateMultipartUpload to the CompleteMultipartUpload
 *   answer. Each object is checked (size and sha256 against the source) outside the timed part,
 *   then deleted, and radosgw's garbage collection is run until the OSD's memstore is back to
 *   where it was, so that every round starts with the same free space.
 * On two cores RGW (and its OSD), ranged and the client share the CPU: the CPU time of each of
 * them over every run (/proc/PID/stat; the client's from the reaped children's times) is reported
 * per GB and per request beside each ratio, with the cores they kept busy together, and the ratio
 * that the CPU alone would allow (all CPU per unit, direct / via ranged). ranged's RSS is sampled
 * during every run. Floors (issue 14): GET ≥ 0.9x RGW, ranges ≥ 0.7x RGW, upload ≥ 0.8x the
 * direct multipart upload, ranged's RSS ≤ 128 MiB. Skipped where the Ceph packages are missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cephEnv, cephMissing, cephS3Client, startCeph } from '../scripts/ceph.js';
import { type BenchConfig, fitSize, sizeLabel, writeRandomFile } from './config.js';
import { cliMain } from './hostile-kit.js';
import { currentRss, peakRss, run, sleep } from './procs.js';
import {
  allowAnonymousGet,
  type BareProxy,
  bytesUnder,
  type CpuUsed,
  cephProcs,
  collectGarbage,
  cpuReading,
  cpuUsed,
  deleteObject,
  objectSha256,
  objectSize,
  osdSpace,
  putObject,
  startProxy,
  wrkRandomRangeScript,
} from './s3-kit.js';
import { check, interleave, measurement, median, ratio, type Section } from './stats.js';
import { curl, wrk } from './tools.js';
import { sha256 } from './upload.js';
import {
  curlPatches,
  StartError,
  sampleRss,
  splitFile,
  startRangedServe,
  tusCreate,
  type UploadServer,
} from './upload-kit.js';

const MiB = 1024 * 1024;
const ISSUE = 14;
/** Issue 14's floors. */
const GET_FLOOR = 0.9;
const RANGES_FLOOR = 0.7;
const UPLOAD_FLOOR = 0.8;
const RSS_LIMIT_MIB = 128;
/** The PATCH size of the tus client and the part size of the direct upload (ranged's PART_SIZE). */
const CHUNK = 8 * MiB;
const RANGE_LENGTH = 1024;
/** The untimed wrk run per path before the first round of the ranges (full runs). */
const RANGES_WARMUP_SECONDS = 20;
const WARMUP_SIZE = 32 * MiB;
const MIN_UPLOAD = 64 * MiB;
/**
 * The OSD's memstore: room for the two GET objects, one upload and what radosgw has not yet
 * collected, far from the 95 % at which the OSD calls itself full and every write hangs.
 * CEPH_MEMSTORE_BYTES overrides it.
 */
const MEMSTORE_BYTES = 6 * 1024 * MiB;
/** What the OSD may hold above its level before the uploads once the garbage is collected. */
const GC_SLACK = 64 * MiB;
const GET_KEY = 'get.bin';
const RANGES_KEY = 'ranges-10m.bin';
/** Not a secret: the bearer token of the ranged child, on loopback, for this run only. */
const TOKEN = 'bench-s3-token';
const uploadChild = fileURLToPath(new URL('./s3-upload-child.js', import.meta.url));

export interface S3Context {
  config: BenchConfig;
  /** Scratch folder of the run: the section's files go in a folder under it, removed at the end. */
  scratch: string;
  log: (line: string) => void;
}

/** ranged in front of RGW, the client straight to RGW, a bare node:http proxy in front of RGW. */
type Path = 'ranged' | 'direct' | 'proxy';
const READ_PATHS: readonly Path[] = ['ranged', 'direct', 'proxy'];
const UPLOAD_PATHS: readonly Path[] = ['ranged', 'direct'];
const READ_LABELS: Record<Path, string> = {
  ranged: 'via ranged',
  direct: 'straight from RGW',
  proxy: 'via a bare node:http proxy',
};
const UPLOAD_LABELS: Record<Path, string> = {
  ranged: 'into ranged --uploads',
  direct: 'SDK multipart straight to RGW',
  proxy: '',
};

/** The CPU of the runs of each path, per unit (GB or request), one sample per run. */
class CpuLog {
  readonly #runs = new Map<Path, { used: CpuUsed; units: number }[]>();
  readonly unit: string;
  /** Seconds → the unit's figure: 1 for s/GB, 1e3 for ms/request. */
  readonly #scale: number;
  constructor(unit: string, scale: number) {
    this.unit = unit;
    this.#scale = scale;
  }
  add(path: Path, used: CpuUsed, units: number): void {
    const runs = this.#runs.get(path) ?? [];
    runs.push({ used, units });
    this.#runs.set(path, runs);
  }
  /** Per-run samples of one process's CPU per unit (`all`: every process together). */
  samples(path: Path, who: 'server' | 'rgw' | 'osd' | 'client' | 'all'): number[] {
    return (this.#runs.get(path) ?? []).map(({ used, units }) => {
      const seconds = who === 'all' ? total(used) : used[who];
      return (seconds * this.#scale) / units;
    });
  }
  /** Cores kept busy by all of them together, per run. */
  busy(path: Path): number[] {
    return (this.#runs.get(path) ?? []).map(({ used }) => total(used) / used.wall);
  }
  /** Cores kept busy by everything else on the machine meanwhile, per run. */
  others(path: Path): number[] {
    return (this.#runs.get(path) ?? []).map(({ used }) => used.others / used.wall);
  }
  /** One run's figures for the log. */
  line(path: Path, used: CpuUsed, units: number): string {
    const f = (s: number) => ((s * this.#scale) / units).toFixed(this.#scale === 1 ? 2 : 3);
    const server = path === 'direct' ? '' : `${path} ${f(used.server)}, `;
    return `${this.unit}: ${server}RGW ${f(used.rgw)}, OSD ${f(used.osd)}, client ${f(used.client)}; ${(total(used) / used.wall).toFixed(2)} cores busy, others ${(used.others / used.wall).toFixed(2)}`;
  }
}

function total(used: CpuUsed): number {
  return used.server + used.rgw + used.osd + used.client;
}

/**
 * The rows and ratios of one part: the rate per path (notes: the other processes' CPU, the cores
 * busy), CPU rows for ranged, the proxy and RGW, the floored ratio, the proxy's ratio, and what
 * the CPU alone would allow.
 */
function report(
  section: Section,
  part: { id: string; title: string; unit: string; floor: number },
  paths: readonly Path[],
  labels: Record<Path, string>,
  samples: Map<Path, number[]>,
  cpu: CpuLog,
  extraNotes: (path: Path) => Record<string, number | string> = () => ({}),
): void {
  const digits = cpu.unit.startsWith('ms') ? 3 : 2;
  const fixed = (values: number[]) => Number(median(values).toFixed(digits));
  for (const path of paths) {
    const row = measurement(part.id, path, part.unit, samples.get(path) ?? [], {
      ...(path === 'proxy' ? { rgwCpu: fixed(cpu.samples(path, 'rgw')) } : {}),
      osdCpu: fixed(cpu.samples(path, 'osd')),
      clientCpu: fixed(cpu.samples(path, 'client')),
      cpuUnit: cpu.unit,
      coresBusy: Number(median(cpu.busy(path)).toFixed(2)),
      otherCores: Number(median(cpu.others(path)).toFixed(2)),
      ...extraNotes(path),
    });
    row.label = `${part.title} ${labels[path]}`;
    section.measurements.push(row);
  }
  const cpuRow = (path: Path, who: 'server' | 'rgw', label: string) => {
    const row = measurement(`${part.id}-cpu`, `${path}.${who}`, cpu.unit, cpu.samples(path, who));
    row.label = `${part.title} ${label}`;
    section.measurements.push(row);
  };
  cpuRow('ranged', 'server', `${labels.ranged}: ranged CPU`);
  cpuRow('ranged', 'rgw', `${labels.ranged}: RGW CPU`);
  cpuRow('direct', 'rgw', `${labels.direct}: RGW CPU`);
  if (paths.includes('proxy')) cpuRow('proxy', 'server', `${labels.proxy}: proxy CPU`);
  const m = (path: Path) => median(samples.get(path) ?? []);
  const per = cpu.unit.replace(/^.*\//, '');
  section.ratios.push(
    ratio(
      `${part.id}.ranged/direct`,
      `${part.title}: ${labels.ranged} / ${labels.direct}`,
      m('ranged'),
      m('direct'),
      { issue: ISSUE, op: '>=', limit: part.floor },
    ),
  );
  if (paths.includes('proxy')) {
    section.ratios.push(
      ratio(
        `${part.id}.proxy/direct`,
        `${part.title}: ${labels.proxy} / ${labels.direct} (the Node ceiling)`,
        m('proxy'),
        m('direct'),
      ),
    );
  }
  section.ratios.push(
    ratio(
      `${part.id}.cpu.direct/ranged`,
      `${part.title}: CPU of all processes per ${per}, ${labels.direct} / ${labels.ranged} (the ratio the 2 cores alone allow)`,
      median(cpu.samples('direct', 'all')),
      median(cpu.samples('ranged', 'all')),
    ),
  );
}

export async function s3Section(ctx: S3Context): Promise<Section> {
  const { config } = ctx;
  const section: Section = { id: 's3', title: 's3', measurements: [], ratios: [] };
  const missing = cephMissing();
  if (missing !== false) {
    section.skipped = `no Ceph to measure against (${missing})`;
    return section;
  }
  const top = join(ctx.scratch, 's3');
  await mkdir(top, { recursive: true });
  const { size: uploadSize, note } = await fitSize(top, config.s3UploadSize, {
    needed: 2 * config.s3UploadSize + 1024 * MiB,
    share: 3,
    step: CHUNK,
    min: MIN_UPLOAD,
    section: 's3',
  });
  if (note !== undefined) ctx.log(`  s3: ${note}`);
  const getSize = config.s3GetSize;
  const rangesSize = config.smallSize;
  section.title = `S3 source on Ceph RGW 16.2 (memstore, tcp_nodelay=1): ranged serve s3://BUCKET, the same requests straight to RGW, and a bare node:http proxy. GET ${sizeLabel(getSize)} (curl, MB/s); ${RANGE_LENGTH} B at random offsets of ${sizeLabel(rangesSize)} (wrk, ${config.connections} connections, req/s); upload ${sizeLabel(uploadSize)} (curl, ${CHUNK / MiB} MiB tus PATCHes into ranged --uploads, against ${CHUNK / MiB} MiB parts by @aws-sdk/client-s3 straight to RGW, MB/s); CPU per GB or per request of each process; ranged's RSS${note === undefined ? '' : ` (${note})`}`;

  const memstore = process.env.CEPH_MEMSTORE_BYTES ? undefined : MEMSTORE_BYTES;
  const ceph = await startCeph({
    ...(memstore === undefined ? {} : { memstoreBytes: memstore }),
    // Else every keep-alive request to RGW waits ~40 ms for a delayed ACK (scripts/ceph.ts), and
    // all paths would measure that timer rather than the servers.
    rgwTcpNoDelay: true,
    log: (line) => ctx.log(`  ${line}`),
  });
  const s3 = cephS3Client(ceph);
  const running: Array<UploadServer | BareProxy> = [];
  const stop = async (server: UploadServer | BareProxy) => {
    running.splice(running.indexOf(server), 1);
    await server.stop();
  };
  try {
    const procs = await cephProcs(ceph.dir);
    const env = { ...process.env, ...cephEnv(ceph) };
    const { bucket } = ceph;
    const direct = (key: string) => `${ceph.endpoint}/${bucket}/${key}`;
    await allowAnonymousGet(s3, bucket);
    const block = randomBytes(MiB);
    await putObject(s3, bucket, GET_KEY, getSize, block);
    await putObject(s3, bucket, RANGES_KEY, rangesSize, randomBytes(MiB));
    for (const [key, size] of [
      [GET_KEY, getSize],
      [RANGES_KEY, rangesSize],
    ] as const) {
      const res = await curl(direct(key), { timeoutMs: 120_000 });
      if (res.status !== 200 || res.body !== size) {
        throw new Error(
          `Cannot GET ${direct(key)} unsigned: expected 200 with ${size} bytes, got ${res.status} with ${res.body}`,
        );
      }
    }
    const rss = { serve: [] as number[], uploads: [] as number[] };
    const lifetimePeaks: number[] = [];
    const idle: Record<string, number> = {};

    // GET and ranges: `ranged serve s3://BUCKET`, and the bare proxy.
    const serve = await startRangedServe(cliMain(config), [`s3://${bucket}`], env);
    running.push(serve);
    idle.serve = ((await currentRss(serve.pid)) ?? Number.NaN) / MiB;
    const proxy = await startProxy(ceph.endpoint);
    running.push(proxy);
    ctx.log(
      `  s3: RGW ${ceph.endpoint} (radosgw pid ${procs.rgw}, ceph-osd pid ${procs.osd}), ranged ${serve.origin} (pid ${serve.pid}, ${idle.serve.toFixed(0)} MiB RSS at start), bare proxy ${proxy.origin}`,
    );
    const url = (path: Path, key: string) =>
      path === 'ranged'
        ? `${serve.origin}/${key}`
        : path === 'proxy'
          ? `${proxy.origin}/${bucket}/${key}`
          : direct(key);
    const serverPid = (path: Path) =>
      path === 'ranged' ? serve.pid : path === 'proxy' ? proxy.pid : undefined;
    /** One run with the CPU of every process over it, and ranged's RSS meanwhile. */
    const measured = async <T>(path: Path, body: () => Promise<T>) => {
      const sampler = path === 'ranged' ? await sampleRss(serve.pid) : undefined;
      const before = await cpuReading(serverPid(path), procs);
      let result: T;
      try {
        result = await body();
      } catch (error) {
        await sampler?.stop();
        const trouble = path === 'ranged' ? serve.trouble() : '';
        throw trouble === '' ? error : new Error(`${(error as Error).message} (${trouble})`);
      }
      const used = cpuUsed(before, await cpuReading(serverPid(path), procs));
      if (sampler !== undefined) rss.serve.push((await sampler.stop()) / MiB);
      return { result, used };
    };

    // 1. GET the whole object, one connection.
    const getOnce = async (path: Path) => {
      const res = await curl(url(path, GET_KEY), { timeoutMs: 300_000 });
      if (res.status !== 200 || res.body !== getSize) {
        throw new Error(
          `Cannot benchmark the GET ${READ_LABELS[path]}: expected 200 with ${getSize} bytes, got ${res.status} with ${res.body}`,
        );
      }
      return res;
    };
    for (const path of READ_PATHS) await getOnce(path);
    const getCpu = new CpuLog('s CPU/GB', 1);
    const getSamples = await interleave(READ_PATHS, config.rounds, async (path, round) => {
      const { result: res, used } = await measured(path, () => getOnce(path));
      getCpu.add(path, used, getSize / 1e9);
      const mbps = res.speed / 1e6;
      ctx.log(
        `  s3 get    round ${round + 1} ${path.padEnd(6)} ${Math.round(mbps)} MB/s, ${getCpu.line(path, used, getSize / 1e9)}`,
      );
      return mbps;
    });
    report(
      section,
      { id: 's3-get', title: `GET ${sizeLabel(getSize)}`, unit: 'MB/s', floor: GET_FLOOR },
      READ_PATHS,
      READ_LABELS,
      getSamples,
      getCpu,
    );

    // 2. 1 KiB at random offsets, 32 connections. First the same range from each: same bytes.
    const probe = 4_000_000;
    const bodies: Buffer[] = [];
    for (const path of READ_PATHS) {
      const out = join(top, `probe-${path}.bin`);
      const range = `bytes=${probe}-${probe + RANGE_LENGTH - 1}`;
      const res = await curl(url(path, RANGES_KEY), { range, output: out });
      if (res.status !== 206 || res.body !== RANGE_LENGTH) {
        throw new Error(
          `Cannot benchmark the ranges ${READ_LABELS[path]}: expected 206 with ${RANGE_LENGTH} bytes, got ${res.status} with ${res.body}`,
        );
      }
      bodies.push(await readFile(out));
    }
    if (bodies.some((b) => !b.equals(bodies[0] ?? Buffer.alloc(0)))) {
      throw new Error('Cannot benchmark the ranges: the paths answered different bytes');
    }
    const script = await wrkRandomRangeScript(top, 'random-1k', rangesSize, RANGE_LENGTH);
    const wrkOptions = {
      script,
      connections: config.connections,
      threads: config.threads,
      seconds: config.wrkSeconds,
    };
    // ranged's rate through the S3 client doubles over its first 20–30 s of load (measured: ~300 to
    // ~600 req/s over 8 s runs back to back; RGW's and the proxy's climb far less): a longer untimed
    // run than the other sections' 1 s, so that the rounds measure the steady state (1 s in a
    // BENCH_QUICK smoke run).
    const warmup = config.quick ? config.warmupSeconds : RANGES_WARMUP_SECONDS;
    for (const path of READ_PATHS) {
      await wrk(url(path, RANGES_KEY), { ...wrkOptions, seconds: warmup });
    }
    const rangesCpu = new CpuLog('ms CPU/request', 1e3);
    const errors = new Map<Path, number>();
    const perResponse = new Map<Path, number>();
    const rangesSamples = await interleave(READ_PATHS, config.rounds, async (path, round) => {
      const { result, used } = await measured(path, () => wrk(url(path, RANGES_KEY), wrkOptions));
      errors.set(path, (errors.get(path) ?? 0) + result.errors);
      perResponse.set(path, result.bytesPerRequest);
      const requests = Math.max(1, result.requests);
      rangesCpu.add(path, used, requests);
      ctx.log(
        `  s3 ranges round ${round + 1} ${path.padEnd(6)} ${Math.round(result.requestsPerSec)} req/s${result.errors > 0 ? ` (${result.errors} errors)` : ''}, ${rangesCpu.line(path, used, requests)}`,
      );
      return result.requestsPerSec;
    });
    report(
      section,
      {
        id: 's3-ranges',
        title: `${RANGE_LENGTH / 1024} KiB ranges at ${config.connections} conns`,
        unit: 'req/s',
        floor: RANGES_FLOOR,
      },
      READ_PATHS,
      READ_LABELS,
      rangesSamples,
      rangesCpu,
      (path) => ({
        errors: errors.get(path) ?? 0,
        bytesPerResponse: Math.round(perResponse.get(path) ?? 0),
      }),
    );
    lifetimePeaks.push(((await peakRss(serve.pid)) ?? Number.NaN) / MiB);
    await stop(serve);
    await stop(proxy);

    // 3. Upload into the bucket.
    const source = join(top, 'source.bin');
    const warmupFile = join(top, 'warmup.bin');
    await writeRandomFile(source, uploadSize, block);
    await writeRandomFile(warmupFile, WARMUP_SIZE, block);
    const digest = await sha256(source);
    const chunkDir = join(top, 'chunks');
    await mkdir(chunkDir);
    const chunks = await splitFile(source, chunkDir, CHUNK);
    const warmupChunks = await splitFile(warmupFile, chunkDir, CHUNK);
    const configFile = join(top, 'patches.curlrc');
    const limit = (await osdSpace(procs)).used + GC_SLACK;

    // Until the S3 upload store is in, `--uploads` on an s3:// source exits at start (or answers
    // 500): ranged is then reported as not available and the direct upload is still measured.
    let unavailable: string | undefined;
    let uploads: UploadServer | undefined;
    try {
      uploads = await startRangedServe(
        cliMain(config),
        [`s3://${bucket}`, '--uploads', '--upload-token', TOKEN],
        env,
      );
      running.push(uploads);
      idle.uploads = ((await currentRss(uploads.pid)) ?? Number.NaN) / MiB;
      ctx.log(
        `  s3: ranged --uploads ${uploads.origin} (pid ${uploads.pid}, ${idle.uploads.toFixed(0)} MiB RSS at start)`,
      );
    } catch (error) {
      if (!(error instanceof StartError)) throw error;
      unavailable = (error.message.split('\n')[0] ?? '').replace(/^Cannot start ranged: /, '');
      ctx.log(`  s3: ranged uploads not available: ${unavailable}`);
    }
    const completionWaits: number[] = [];
    const completionHeads: number[] = [];
    /** One upload of `files` as `key`: the timed ms and the CPU over the timed part. */
    const send = async (
      path: Path,
      key: string,
      files: string[],
      size: number,
    ): Promise<{ ms: number; used: CpuUsed }> => {
      const space = await osdSpace(procs);
      if (space.used + 1.5 * size > 0.9 * space.total) {
        throw new Error(
          `Cannot upload ${sizeLabel(size)}: the OSD holds ${(space.used / MiB).toFixed(0)} of ${(space.total / MiB).toFixed(0)} MiB (full at 95 %); set CEPH_MEMSTORE_BYTES higher`,
        );
      }
      if (path === 'ranged') {
        if (uploads === undefined) throw new Error('Cannot upload to ranged: it is not running');
        const target = await tusCreate(`${uploads.origin}/.uploads/`, size, key, TOKEN);
        const before = await cpuReading(uploads.pid, procs);
        const res = await curlPatches(target, files, { configFile, token: TOKEN });
        // The last PATCH may be answered before the object is complete in the bucket: the clock
        // stops when a HEAD finds it (one HEAD's round trip when it is there at once).
        const answered = performance.now();
        let heads = 1;
        while ((await objectSize(s3, bucket, key)) === undefined) {
          heads++;
          if (performance.now() - answered > 60_000) {
            throw new Error(`Cannot find ${key} in the bucket 60 s after the last PATCH`);
          }
          await sleep(10);
        }
        const wait = performance.now() - answered;
        completionWaits.push(wait);
        completionHeads.push(heads);
        const used = cpuUsed(before, await cpuReading(uploads.pid, procs));
        return { ms: res.ms + wait, used: { ...used, wall: (res.ms + wait) / 1000 } };
      }
      const before = await cpuReading(undefined, procs);
      const res = await run(process.execPath, [uploadChild, bucket, key, ...files], {
        env,
        timeoutMs: 600_000,
      });
      const used = cpuUsed(before, await cpuReading(undefined, procs));
      if (res.code !== 0) {
        throw new Error(`Cannot upload straight to RGW: exit ${res.code}: ${res.stderr.trim()}`);
      }
      const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as {
        ms?: number;
        cpuMs?: number;
      };
      if (out.ms === undefined || out.cpuMs === undefined) {
        throw new Error(`Cannot read the SDK child's time: ${res.stdout}`);
      }
      // The client's CPU over the timed part only, as the child measured it (not its start-up).
      return { ms: out.ms, used: { ...used, client: out.cpuMs / 1000, wall: out.ms / 1000 } };
    };

    // One untimed upload of a small file by each, then the store back to its level.
    for (const path of UPLOAD_PATHS) {
      if (path === 'ranged' && unavailable !== undefined) continue;
      const key = `warmup-${path}.bin`;
      try {
        await send(path, key, warmupChunks, WARMUP_SIZE);
      } catch (error) {
        if (path !== 'ranged') throw error;
        const trouble = uploads?.trouble() ?? '';
        unavailable = `${(error as Error).message.split('\n')[0]}${trouble === '' ? '' : ` (${trouble.split('\n')[0]})`}`;
        ctx.log(`  s3: ranged uploads not available: ${unavailable}`);
        continue;
      }
      const got = await objectSize(s3, bucket, key);
      if (got !== WARMUP_SIZE) {
        throw new Error(`Cannot benchmark the upload ${path}: the warm-up object has ${got} bytes`);
      }
      await deleteObject(s3, bucket, key);
    }
    await collectGarbage(procs, limit);
    const uploadPaths = UPLOAD_PATHS.filter((p) => p !== 'ranged' || unavailable === undefined);
    const uploadCpu = new CpuLog('s CPU/GB', 1);
    const leftovers: number[] = [];
    const uploadSamples = await interleave(uploadPaths, config.rounds, async (path, round) => {
      const key = `upload-${path}-${round + 1}.bin`;
      const sampler = path === 'ranged' ? await sampleRss(uploads?.pid) : undefined;
      let sent: { ms: number; used: CpuUsed };
      try {
        sent = await send(path, key, chunks, uploadSize);
      } catch (error) {
        await sampler?.stop();
        const trouble = path === 'ranged' ? (uploads?.trouble() ?? '') : '';
        throw trouble === '' ? error : new Error(`${(error as Error).message} (${trouble})`);
      }
      if (sampler !== undefined) rss.uploads.push((await sampler.stop()) / MiB);
      // Outside the timed part: all there, byte for byte the source; then gone, and collected.
      const got = await objectSize(s3, bucket, key);
      if (got !== uploadSize) {
        throw new Error(`Cannot benchmark the upload ${path}: ${got} of ${uploadSize} bytes`);
      }
      if ((await objectSha256(s3, bucket, key)) !== digest) {
        throw new Error(`Cannot benchmark the upload ${path}: ${key} differs from the source`);
      }
      await deleteObject(s3, bucket, key);
      if (path === 'ranged') leftovers.push(await bytesUnder(s3, bucket, '.ranged-uploads/'));
      const gcMs = await collectGarbage(procs, limit);
      uploadCpu.add(path, sent.used, uploadSize / 1e9);
      const mbps = uploadSize / (sent.ms / 1000) / 1e6;
      ctx.log(
        `  s3 upload round ${round + 1} ${path.padEnd(6)} ${Math.round(mbps)} MB/s, ${uploadCpu.line(path, sent.used, uploadSize / 1e9)} (garbage collected in ${Math.round(gcMs)} ms)`,
      );
      return mbps;
    });
    if (unavailable === undefined) {
      report(
        section,
        {
          id: 's3-upload',
          title: `upload ${sizeLabel(uploadSize)}`,
          unit: 'MB/s',
          floor: UPLOAD_FLOOR,
        },
        UPLOAD_PATHS,
        UPLOAD_LABELS,
        uploadSamples,
        uploadCpu,
        (path) =>
          path === 'ranged'
            ? {
                client: `curl, ${chunks.length} PATCHes of ${CHUNK / MiB} MiB`,
                completionWaitMs: Math.round(Math.max(...completionWaits)),
                completionHeads: Math.max(...completionHeads),
                leftBytes: Math.max(0, ...leftovers),
                sha256: 'ok',
              }
            : {
                client: `@aws-sdk/client-s3, ${chunks.length} parts of ${CHUNK / MiB} MiB`,
                sha256: 'ok',
              },
      );
    } else {
      const row = measurement('s3-upload', 'direct', 'MB/s', uploadSamples.get('direct') ?? [], {
        clientCpu: Number(median(uploadCpu.samples('direct', 'client')).toFixed(2)),
        rgwCpu: Number(median(uploadCpu.samples('direct', 'rgw')).toFixed(2)),
        osdCpu: Number(median(uploadCpu.samples('direct', 'osd')).toFixed(2)),
        cpuUnit: uploadCpu.unit,
      });
      row.label = `upload ${sizeLabel(uploadSize)} ${UPLOAD_LABELS.direct}`;
      section.measurements.push(row);
      section.skipped = `ranged uploads into S3: not available (${unavailable})`;
    }
    if (uploads !== undefined) {
      lifetimePeaks.push(((await peakRss(uploads.pid)) ?? Number.NaN) / MiB);
      await stop(uploads);
    }

    const rssRow = (id: 'serve' | 'uploads', label: string) => {
      if (rss[id].length === 0) return;
      const row = measurement('s3-rss', id, 'MiB peak RSS', rss[id], {
        atStart: Number((idle[id] ?? Number.NaN).toFixed(1)),
      });
      row.label = label;
      section.measurements.push(row);
    };
    rssRow('serve', 'ranged serve s3:// during GET and ranges (server RSS)');
    rssRow('uploads', 'ranged serve s3:// --uploads during uploads (server RSS)');
    section.ratios.push(
      check(
        's3.ranged.rss',
        "s3: ranged peak RSS (max over the runs and the servers' lives)",
        Math.max(...rss.serve, ...rss.uploads, ...lifetimePeaks.filter(Number.isFinite)),
        { issue: ISSUE, op: '<=', limit: RSS_LIMIT_MIB },
        'MiB',
      ),
    );
    return section;
  } finally {
    await Promise.allSettled(running.map((s) => s.stop()));
    s3.destroy();
    await ceph.stop();
    await rm(top, { recursive: true, force: true });
  }
}
