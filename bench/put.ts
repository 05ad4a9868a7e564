/**
 * The put section (issue 13): one file uploaded to the same server, `ranged serve DIR --uploads
 * --upload-token T` (a child process), by four clients, interleaved round by round, each run into
 * a fresh name:
 * - `ranged put FILE ORIGIN/.uploads/ --token T --name NAME --quiet`, as a child process, timed
 *   from spawn to exit (Node's start-up included);
 * - tus-js-client 4.3.1 in a Node child (bench/tus-js-child.ts), 8 MiB chunks, timed from
 *   `start()` to `onSuccess`;
 * - `curl -T FILE -H 'Authorization: Bearer T' ORIGIN/NAME`, a plain PUT, timed from spawn to exit
 *   like ranged put (curl's own %{time_total}, without its start-up, is logged beside it);
 * - the same plain PUT from a bare node:http client (bench/node-put-child.ts), timed from spawn
 *   to exit: Node's own floor, so the report tells how much of the distance to curl is Node's.
 * Each client's peak RSS is polled from /proc. Each run's file is checked (size and sha256 against
 * the source, outside the timed part), removed, and the removal written down (`sync`) before the
 * next run, whose order rotates from round to round (each client runs first, second, … alike).
 * Floors: ranged put ≥ 1.2x tus-js-client, ≥ 0.8x curl, its peak RSS ≤ 64 MiB. Until the CLI has `put`, ranged put is
 * reported as not available and the two peers are still measured.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchConfig, fitSize, sizeLabel, writeRandomFile } from './config.js';
import { cliMain } from './hostile-kit.js';
import { run } from './procs.js';
import {
  CLIENT_LABEL,
  type PutClient,
  type PutTarget,
  putWith,
  rangedPutMissing,
} from './put-kit.js';
import { check, interleave, measurement, median, ratio, type Section } from './stats.js';
import { sha256 } from './upload.js';
import { startRangedUploads, type UploadServer } from './upload-kit.js';

const MiB = 1024 * 1024;
/** tus-js-client's chunk size (the issue's 8 MiB). */
const CHUNK = 8 * MiB;
/** Issue 13's floors. */
const TUS_FLOOR = 1.2;
const CURL_FLOOR = 0.8;
const RSS_LIMIT_MIB = 64;
/** Free space the full size needs with room to spare: the source and one copy (x 3 for slack). */
const FREE_FACTOR = 3;
const MIN_SIZE = 64 * MiB;
const WARMUP_SIZE = 32 * MiB;
/** Not a secret: the bearer token of the ranged child, on loopback, for this run only. */
const TOKEN = 'bench-put-token';

export interface PutContext {
  config: BenchConfig;
  /** Scratch folder of the run: the section's files go in a folder under it, removed at the end. */
  scratch: string;
  log: (line: string) => void;
}

/** Bytes under `dir` (what the server keeps besides the uploaded files). */
async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export async function putSection(ctx: PutContext): Promise<Section> {
  const { config } = ctx;
  const top = join(ctx.scratch, 'put');
  const served = join(top, 'served');
  const stateHome = join(top, 'state');
  await mkdir(served, { recursive: true });
  await mkdir(stateHome, { recursive: true });
  const { size, note } = await fitSize(top, config.putSize, {
    needed: config.putSize * FREE_FACTOR,
    share: FREE_FACTOR,
    step: MiB,
    min: MIN_SIZE,
    section: 'put',
  });
  if (note !== undefined) ctx.log(`  put: ${note}`);
  const section: Section = {
    id: 'put',
    title: `Upload ${sizeLabel(size)} to ranged serve --uploads (the same server for all): ranged put (process wall time), tus-js-client ${CHUNK / MiB} MiB chunks in Node (start() to onSuccess), curl -T plain PUT and a bare node:http PUT (process wall time), MB/s; client peak RSS, MiB${note === undefined ? '' : ` (${note})`}`,
    measurements: [],
    ratios: [],
  };

  const main = cliMain(config);
  const missing = await rangedPutMissing(main);
  const unavailable = missing === undefined ? undefined : `ranged put: not available (${missing})`;
  if (unavailable !== undefined) ctx.log(`  put: ${unavailable}`);
  const peers: PutClient[] = ['tus-js-client', 'curl', 'node-put'];
  const clients: PutClient[] = missing === undefined ? ['ranged', ...peers] : peers;

  const source = join(top, 'source.bin');
  const warmup = join(top, 'warmup.bin');
  const block = randomBytes(MiB);
  await writeRandomFile(source, size, block);
  await writeRandomFile(warmup, WARMUP_SIZE, block);
  const digest = await sha256(source);
  // The source's 1 GiB written down now, not while the first timed run reads it.
  await run('sync', [], { timeoutMs: 120_000 });

  let server: UploadServer | undefined;
  try {
    server = await startRangedUploads(main, served, TOKEN);
    ctx.log(`  put server: ranged ${server.origin}`);
    const target: PutTarget = {
      origin: server.origin,
      token: TOKEN,
      main,
      stateHome,
      chunk: CHUNK,
    };
    const running = server;
    const upload = async (client: PutClient, file: string, bytes: number, name: string) => {
      try {
        return await putWith(client, target, file, bytes, name);
      } catch (error) {
        const trouble = running.trouble();
        throw trouble === ''
          ? error
          : new Error(`${(error as Error).message} (server: ${trouble})`);
      }
    };

    // Warm-up: one untimed upload of a small file by each client, checked and removed.
    for (const client of clients) {
      const name = `warmup-${client}.bin`;
      await upload(client, warmup, WARMUP_SIZE, name);
      const got = (await stat(join(served, name))).size;
      if (got !== WARMUP_SIZE) {
        throw new Error(`Cannot benchmark ${client}: the warm-up file has ${got} bytes`);
      }
      await rm(join(served, name));
    }

    const rss = new Map<PutClient, number[]>(clients.map((c) => [c, []]));
    const walls = new Map<PutClient, number[]>(clients.map((c) => [c, []]));
    let leftover = 0;
    const samples = await interleave(
      clients,
      config.rounds,
      async (client, round) => {
        const name = `put-${client}-${round + 1}.bin`;
        const sent = await upload(client, source, size, name);
        // Outside the timed part: the file is all there and byte for byte the source.
        const file = join(served, name);
        const got = (await stat(file)).size;
        if (got !== size) throw new Error(`Cannot benchmark ${client}: ${got} of ${size} bytes`);
        if ((await sha256(file)) !== digest) {
          throw new Error(`Cannot benchmark ${client}: ${file} differs from the source`);
        }
        await rm(file);
        // The freed blocks and the folder's change on disk now, not during the next client's run.
        await run('sync', [], { timeoutMs: 120_000 });
        leftover = Math.max(leftover, await bytesIn(served));
        rss.get(client)?.push(sent.rss / MiB);
        walls.get(client)?.push(sent.wallMs);
        const mbps = size / (sent.ms / 1000) / 1e6;
        const own =
          sent.ownMs === undefined
            ? ''
            : `, ${Math.round(size / sent.ownMs / 1e3)} by its own clock`;
        ctx.log(
          `  put round ${round + 1} ${CLIENT_LABEL[client].padEnd(13)} ${Math.round(mbps)} MB/s (${Math.round(size / sent.wallMs / 1e3)} by process wall time${own}), client peak RSS ${(sent.rss / MiB).toFixed(1)} MiB`,
        );
        return mbps;
      },
      { rotate: true },
    );

    for (const client of clients) {
      section.measurements.push(
        measurement('put', CLIENT_LABEL[client], 'MB/s', samples.get(client) ?? [], {
          timed: client === 'tus-js-client' ? 'start() to onSuccess' : 'process wall time',
          wallMBps: Math.round(size / median(walls.get(client) ?? []) / 1e3),
          sha256: 'ok',
        }),
      );
    }
    for (const client of clients) {
      const row = measurement(
        'put-rss',
        CLIENT_LABEL[client],
        'MiB peak RSS',
        rss.get(client) ?? [],
      );
      row.label = `${CLIENT_LABEL[client]} (client RSS)`;
      section.measurements.push(row);
    }
    const m = (client: PutClient) =>
      section.measurements.find((x) => x.id === `put.${CLIENT_LABEL[client]}`)?.median ??
      Number.NaN;
    if (missing === undefined) {
      section.ratios.push(
        ratio(
          'put.ranged/tus-js',
          'put: ranged put / tus-js-client',
          m('ranged'),
          m('tus-js-client'),
          {
            issue: 13,
            op: '>=',
            limit: TUS_FLOOR,
          },
        ),
        ratio('put.ranged/curl', 'put: ranged put / curl -T', m('ranged'), m('curl'), {
          issue: 13,
          op: '>=',
          limit: CURL_FLOOR,
        }),
        check(
          'put.ranged.rss',
          'put: ranged put peak RSS (max over runs)',
          Math.max(...(rss.get('ranged') ?? [Number.NaN])),
          { issue: 13, op: '<=', limit: RSS_LIMIT_MIB },
          'MiB',
        ),
      );
    } else {
      section.skipped = unavailable ?? 'ranged put: not available';
    }
    if (missing === undefined) {
      section.ratios.push(
        ratio(
          'put.ranged/node-put',
          'put: ranged put / bare node:http PUT',
          m('ranged'),
          m('node-put'),
        ),
      );
    }
    section.ratios.push(
      ratio('put.tus-js/curl', 'put: tus-js-client / curl -T', m('tus-js-client'), m('curl')),
      ratio('put.node-put/curl', 'put: bare node:http PUT / curl -T', m('node-put'), m('curl')),
    );
    ctx.log(`  put: the server's folder held at most ${leftover} bytes besides the uploads`);
    return section;
  } finally {
    await server?.stop();
    await rm(top, { recursive: true, force: true });
  }
}
