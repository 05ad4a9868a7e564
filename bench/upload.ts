/**
 * The upload section (issue 12): one file ingested over one connection, interleaved round by
 * round, into three servers, each a child process writing into a folder of its own:
 * - ranged (`ranged serve DIR --uploads --upload-token T`) and @tus/server with
 *   @tus/file-store, both sent the same way: an untimed creation POST (node:http), then all the
 *   8 MiB PATCHes in one curl invocation over one connection (`--next` groups, `Expect:` off),
 *   each body one of the source's 8 MiB chunk files, split beforehand outside the timed part.
 *   The clock starts at the first PATCH: the issue measures ingest;
 * - a bare node:http server that pipes a PUT body to disk (the Node ceiling), sent the whole file
 *   as one `curl -T` PUT.
 * curl is the raw client for all three, so that on 2 cores the client's own CPU (~0.6 s per GiB
 * for curl) takes little from the server under test. Each run's file is checked (size, and
 * sha256 against the source, outside the timed part) and removed before the next, so at most
 * the source, its chunks and one copy are on disk. The servers' RSS is
 * sampled during each run. Floors: ranged ≥ 1.5x @tus/server, ≥ 0.8x bare, peak RSS ≤ 96 MiB.
 * Until the CLI accepts `--uploads`, ranged is reported as not available and the peers still run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type BenchConfig, fitSize, sizeLabel, writeRandomFile } from './config.js';
import { cliMain } from './hostile-kit.js';
import { check, interleave, measurement, ratio, type Section } from './stats.js';
import {
  curlPatches,
  curlPut,
  StartError,
  sampleRss,
  splitFile,
  startPeer,
  startRangedUploads,
  tusCreate,
  type UploadName,
  type UploadServer,
} from './upload-kit.js';

const MiB = 1024 * 1024;
/** The PATCH size of the tus client. */
export const CHUNK = 8 * MiB;
/** Issue 12's floors. */
const TUS_FLOOR = 1.5;
const BARE_FLOOR = 0.8;
const RSS_LIMIT_MIB = 96;
/** Free space the full size needs with room to spare (source, its chunks, one copy, the rest). */
const FREE_NEEDED = 5 * 1024 * MiB;
const MIN_SIZE = 64 * MiB;
const WARMUP_SIZE = 32 * MiB;
/** Not a secret: the bearer token of the ranged child, on loopback, for this run only. */
const TOKEN = 'bench-upload-token';

export interface UploadContext {
  config: BenchConfig;
  /** Scratch folder of the run: the section's files go in a folder under it, removed at the end. */
  scratch: string;
  log: (line: string) => void;
}

export async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: MiB }), hash);
  return hash.digest('hex');
}

/** Bytes in `dir` and below (what a server left behind). */
async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await readdir(dir))
    await rm(join(dir, name), { recursive: true, force: true });
}

interface Sent {
  /** curl's %{time_total}: of the PUT, or summed over the PATCHes. */
  ms: number;
  /** Wall time of the curl process that sent the PATCHes (spawn to exit), for the log. */
  wallMs?: number;
  /** Where the server put the file. */
  file: string;
  connections: number;
}

/** A file to upload: whole (for the PUT) and as its CHUNK-byte pieces (one per PATCH). */
interface Source {
  file: string;
  size: number;
  chunks: string[];
}

/** One upload of `source` to `server`: a tus creation POST then curl's PATCHes, or curl -T. */
async function send(
  server: UploadServer,
  dir: string,
  { file: source, size, chunks }: Source,
  filename: string,
  configFile: string,
): Promise<Sent> {
  if (server.name === 'bare') {
    const res = await curlPut(`${server.origin}/${filename}`, source);
    if (res.status !== 201 || res.bytes !== size) {
      throw new Error(
        `Cannot PUT to the bare server: expected 201 after ${size} bytes, got ${res.status} after ${res.bytes}`,
      );
    }
    return { ms: res.seconds * 1000, file: join(dir, filename), connections: 1 };
  }
  const endpoint = `${server.origin}${server.name === 'ranged' ? '/.uploads/' : '/files'}`;
  const token = server.name === 'ranged' ? TOKEN : undefined;
  const url = await tusCreate(endpoint, size, filename, token);
  const res = await curlPatches(url, chunks, {
    configFile,
    ...(token === undefined ? {} : { token }),
  });
  // ranged puts the file under its name; @tus/file-store keeps it under the upload id.
  const file =
    server.name === 'ranged' ? join(dir, filename) : join(dir, basename(new URL(url).pathname));
  return { ms: res.ms, wallMs: res.wallMs, file, connections: res.connections };
}

export async function uploadSection(ctx: UploadContext): Promise<Section> {
  const { config } = ctx;
  const top = join(ctx.scratch, 'upload');
  const dirs: Record<UploadName, string> = {
    ranged: join(top, 'ranged'),
    'tus-server': join(top, 'tus-server'),
    bare: join(top, 'bare'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const { size, note } = await fitSize(top, config.uploadSize, {
    needed: FREE_NEEDED,
    share: 5,
    step: CHUNK,
    min: MIN_SIZE,
    section: 'upload',
  });
  if (note !== undefined) ctx.log(`  upload: ${note}`);
  const section: Section = {
    id: 'upload',
    title: `Upload ${sizeLabel(size)} over one connection: ranged and @tus/server + @tus/file-store by the same raw client, curl (an untimed creation POST, then ${CHUNK / MiB} MiB PATCHes in one curl over one connection, timed from the first PATCH), a bare node:http PUT-to-disk server by one curl -T PUT, MB/s; server peak RSS per run, MiB${note === undefined ? '' : ` (${note})`}`,
    measurements: [],
    ratios: [],
  };

  const source = join(top, 'source.bin');
  const warmup = join(top, 'warmup.bin');
  const block = randomBytes(MiB);
  await writeRandomFile(source, size, block);
  await writeRandomFile(warmup, WARMUP_SIZE, block);
  const digest = await sha256(source);
  // The PATCH bodies: 8 MiB chunk files, made outside the timed part, removed with `top`.
  const chunkDir = join(top, 'chunks');
  await mkdir(chunkDir);
  const full: Source = { file: source, size, chunks: await splitFile(source, chunkDir, CHUNK) };
  const small: Source = {
    file: warmup,
    size: WARMUP_SIZE,
    chunks: await splitFile(warmup, chunkDir, CHUNK),
  };
  const configFile = join(top, 'patches.curlrc');

  const servers = new Map<UploadName, UploadServer>();
  let unavailable: string | undefined;
  try {
    const started = await Promise.allSettled([
      startRangedUploads(cliMain(config), dirs.ranged, TOKEN).then((s) => servers.set('ranged', s)),
      startPeer('tus-server', dirs['tus-server']).then((s) => servers.set('tus-server', s)),
      startPeer('bare', dirs.bare).then((s) => servers.set('bare', s)),
    ]);
    const [ranged, ...peers] = started;
    for (const s of peers) if (s.status === 'rejected') throw s.reason;
    if (ranged?.status === 'rejected') {
      const error = ranged.reason as Error;
      const firstLine = error.message.split('\n')[0] ?? '';
      unavailable =
        error instanceof StartError && error.code === 2
          ? `ranged: not available (this build's CLI rejects serve --uploads: ${firstLine.replace(/^.*: exited with 2: (ranged: )?/, '')})`
          : `ranged: not available (${firstLine})`;
      ctx.log(`  upload: ${unavailable}`);
    }
    const names = (['ranged', 'tus-server', 'bare'] as const).filter((n) => servers.has(n));
    const server = (name: UploadName) => {
      const found = servers.get(name);
      if (found === undefined) throw new Error(`Cannot upload to ${name}: it is not running`);
      return found;
    };
    ctx.log(`  upload servers: ${names.map((n) => `${n} ${server(n).origin}`).join(', ')}`);

    // Warm-up: one untimed upload of a small file to each, checked and removed like the others.
    for (const name of names) {
      const sent = await send(server(name), dirs[name], small, `warmup-${name}.bin`, configFile);
      const got = (await stat(sent.file)).size;
      if (got !== WARMUP_SIZE) {
        throw new Error(`Cannot benchmark ${name}: the warm-up file has ${got} bytes`);
      }
      // ranged's own state may live in its folder: only its file goes, as after each run.
      if (name === 'ranged') await rm(sent.file);
      else await emptyDir(dirs[name]);
    }

    const rss = new Map<UploadName, number[]>(names.map((n) => [n, []]));
    const connections = new Map<UploadName, number>();
    const leftovers = new Map<UploadName, number>();
    const samples = await interleave(names, config.rounds, async (name, round) => {
      const target = server(name);
      const filename = `upload-${name}-${round + 1}.bin`;
      const sampler = await sampleRss(target.pid);
      let sent: Sent;
      try {
        sent = await send(target, dirs[name], full, filename, configFile);
      } catch (error) {
        await sampler.stop();
        const trouble = target.trouble();
        throw trouble === '' ? error : new Error(`${(error as Error).message} (${trouble})`);
      }
      const peak = await sampler.stop();
      rss.get(name)?.push(peak / MiB);
      connections.set(name, Math.max(connections.get(name) ?? 0, sent.connections));
      // Outside the timed part: the file is all there and byte for byte the source.
      const got = (await stat(sent.file)).size;
      if (got !== size) throw new Error(`Cannot benchmark ${name}: ${got} of ${size} bytes`);
      if ((await sha256(sent.file)) !== digest) {
        throw new Error(`Cannot benchmark ${name}: ${sent.file} differs from the source`);
      }
      if (name === 'ranged') {
        // Only the file: what else ranged keeps after a complete upload is reported, not removed.
        await rm(sent.file);
        leftovers.set(name, Math.max(leftovers.get(name) ?? 0, await bytesIn(dirs[name])));
      } else {
        await emptyDir(dirs[name]);
      }
      const mbps = size / (sent.ms / 1000) / 1e6;
      ctx.log(
        `  upload round ${round + 1} ${name.padEnd(10)} ${Math.round(mbps)} MB/s${sent.wallMs === undefined ? '' : ` (${Math.round(size / sent.wallMs / 1e3)} by curl's wall time)`}, peak RSS ${(peak / MiB).toFixed(1)} MiB, ${sent.connections} connection(s)`,
      );
      return mbps;
    });

    for (const name of names) {
      section.measurements.push(
        measurement('upload', name, 'MB/s', samples.get(name) ?? [], {
          connections: connections.get(name) ?? 0,
          client:
            name === 'bare'
              ? 'curl -T'
              : `curl, ${full.chunks.length} PATCHes of ${CHUNK / MiB} MiB`,
          sha256: 'ok',
          ...(leftovers.has(name) ? { leftBytes: leftovers.get(name) ?? 0 } : {}),
        }),
      );
    }
    for (const name of names) {
      const row = measurement('upload-rss', name, 'MiB peak RSS', rss.get(name) ?? []);
      row.label = `${name} (server RSS)`;
      section.measurements.push(row);
    }
    const m = (name: UploadName) =>
      section.measurements.find((x) => x.id === `upload.${name}`)?.median ?? Number.NaN;
    if (servers.has('ranged')) {
      section.ratios.push(
        ratio(
          'upload.ranged/tus-server',
          'upload: ranged / @tus/server',
          m('ranged'),
          m('tus-server'),
          {
            issue: 12,
            op: '>=',
            limit: TUS_FLOOR,
          },
        ),
        ratio('upload.ranged/bare', 'upload: ranged / bare node:http', m('ranged'), m('bare'), {
          issue: 12,
          op: '>=',
          limit: BARE_FLOOR,
        }),
        check(
          'upload.ranged.rss',
          'upload: ranged peak RSS (max over runs)',
          Math.max(...(rss.get('ranged') ?? [Number.NaN])),
          { issue: 12, op: '<=', limit: RSS_LIMIT_MIB },
          'MiB',
        ),
      );
    } else {
      section.skipped = unavailable ?? 'ranged: not available';
    }
    section.ratios.push(
      ratio(
        'upload.tus-server/bare',
        'upload: @tus/server / bare node:http',
        m('tus-server'),
        m('bare'),
      ),
    );
    return section;
  } finally {
    await Promise.allSettled([...servers.values()].map((s) => s.stop()));
    await rm(top, { recursive: true, force: true });
  }
}
