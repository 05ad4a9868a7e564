/**
 * What a run measures and how long it takes, from the environment:
 * - `BENCH_QUICK=1`: a 1-2 minute smoke run (3 rounds, 1 s wrk runs, 256 MiB instead of 1 GiB).
 * - `BENCH_ONLY=small,big,multipart,get,scaling,throttle,linearity,journal,hostile,tls,upload,put,s3`:
 *   run only these sections (all of them by default). `hostile`, `upload`, `put` and `s3` need
 *   neither the shared fixtures nor the shared servers, so `BENCH_ONLY=hostile,upload,put,s3`
 *   starts neither. `s3` starts a throwaway Ceph cluster (scripts/ceph.ts) and is reported as
 *   skipped where the Ceph packages are not installed.
 * - `BENCH_ROUNDS=N`, `BENCH_SECONDS=S`: override the number of rounds and the wrk run length.
 * - `BENCH_H2_LOADER=node`: the tls section's HTTP/2 load from the Node generator in h2.ts even
 *   when h2load (Debian's nghttp2-client) is installed; without h2load it is used anyway.
 * - `BENCH_DIR=/path`: where the temporary files go (default: the OS temp dir).
 * - `BENCH_RANGED=/path/to/dist/src/server/server.js`: measure that build as `ranged`.
 * - `BENCH_BASELINE=/path/to/dist/src/server/server.js`: also measure that build, as `baseline`,
 *   in the server sections (A/B of a change against the code before it, in the same run).
 */
import { randomBytes } from 'node:crypto';
import { open, statfs } from 'node:fs/promises';
import { join } from 'node:path';

export type SectionId =
  | 'small'
  | 'big'
  | 'multipart'
  | 'get'
  | 'scaling'
  | 'throttle'
  | 'linearity'
  | 'journal'
  | 'hostile'
  | 'tls'
  | 'upload'
  | 'put'
  | 's3';
export const SECTIONS: readonly SectionId[] = [
  'small',
  'big',
  'multipart',
  'get',
  'scaling',
  'throttle',
  'linearity',
  'journal',
  'hostile',
  'tls',
  'upload',
  'put',
  's3',
];

const MiB = 1024 * 1024;

export interface BenchConfig {
  quick: boolean;
  sections: readonly SectionId[];
  /** Interleaved rounds; every reported figure is the median of this many samples. */
  rounds: number;
  /** Length of one wrk run. */
  wrkSeconds: number;
  /** One untimed wrk run per server before the first round. */
  warmupSeconds: number;
  connections: number;
  /** wrk threads: 1, so that on 2 cores the server under test gets the other core. */
  threads: number;
  /** Size of the "big" file for full transfers and for the client section. */
  bigSize: number;
  /** Size of the second full-transfer file and of the large range. */
  midSize: number;
  smallSize: number;
  /** The header for the small-range section. */
  smallRange: string;
  /** The header for the multipart section: two 1 KiB ranges. */
  multiRange: string;
  /** Another build's server.js to measure as `ranged`. */
  rangedModule: string | undefined;
  /** A build's server.js to measure as `baseline`. */
  baselineModule: string | undefined;
  /** Concurrent connections of the scaling section (small ranges, wrk). */
  scalingLevels: readonly number[];
  /** The file downloaded from the throttled nginx location (`limit_rate 4m`). */
  throttleSize: number;
  /** Rounds of the journal section: it looks for a 5 % difference, so it takes more samples
   * than the other sections (each is a ~1-2 s download). */
  journalRounds: number;
  /** The file sizes of the linearity section (`ranged get -c 4`). */
  linearitySizes: readonly number[];
  /** The file the upload section sends to each server (1 GiB; 128 MiB in BENCH_QUICK). */
  uploadSize: number;
  /** The file the put section uploads with each client (1 GiB; 128 MiB in BENCH_QUICK). */
  putSize: number;
  /** The object the s3 section GETs whole (256 MiB; 64 MiB in BENCH_QUICK). */
  s3GetSize: number;
  /** The file the s3 section uploads into the bucket (1 GiB; 128 MiB in BENCH_QUICK). */
  s3UploadSize: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  const only = env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const sections =
    only === undefined ? SECTIONS : SECTIONS.filter((section) => only.includes(section));
  if (only !== undefined && sections.length === 0) {
    throw new Error(`Cannot run: BENCH_ONLY names no section of ${SECTIONS.join(', ')}`);
  }
  return {
    quick,
    sections,
    rounds: positive(env.BENCH_ROUNDS) ?? (quick ? 3 : 5),
    wrkSeconds: positive(env.BENCH_SECONDS) ?? (quick ? 1 : 4),
    warmupSeconds: 1,
    connections: 32,
    threads: 1,
    bigSize: quick ? 256 * MiB : 1024 * MiB,
    midSize: 256 * MiB,
    smallSize: 10 * MiB,
    smallRange: 'bytes=1000-2023',
    multiRange: 'bytes=1000-2023,5000-6023',
    rangedModule: env.BENCH_RANGED || undefined,
    baselineModule: env.BENCH_BASELINE || undefined,
    scalingLevels: [1, 4, 16, 64, 256],
    throttleSize: quick ? 32 * MiB : 128 * MiB,
    journalRounds: positive(env.BENCH_ROUNDS) ?? (quick ? 3 : 9),
    linearitySizes: quick
      ? [MiB, 16 * MiB, 256 * MiB]
      : [MiB, 16 * MiB, 256 * MiB, 1024 * MiB, 4096 * MiB],
    uploadSize: quick ? 128 * MiB : 1024 * MiB,
    putSize: quick ? 128 * MiB : 1024 * MiB,
    s3GetSize: quick ? 64 * MiB : 256 * MiB,
    s3UploadSize: quick ? 128 * MiB : 1024 * MiB,
  };
}

function positive(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new Error(`Cannot use "${text}": expected a whole number from 1 to 1000`);
  }
  return n;
}

export interface Fixtures {
  root: string;
  small: { name: string; size: number };
  mid: { name: string; size: number };
  big: { name: string; size: number };
}

/** Writes the served files: random bytes, 1 MiB pattern repeated (no server compresses them). */
export async function writeFixtures(root: string, config: BenchConfig): Promise<Fixtures> {
  const block = randomBytes(MiB);
  const make = async (name: string, size: number) => {
    await writeRandomFile(join(root, name), size, block);
    return { name, size };
  };
  const small = await make('small-10m.bin', config.smallSize);
  const mid = await make(`mid-${fileLabel(config.midSize)}.bin`, config.midSize);
  const big =
    config.bigSize === config.midSize
      ? mid
      : await make(`big-${fileLabel(config.bigSize)}.bin`, config.bigSize);
  return { root, small, mid, big };
}

/**
 * Writes `size` bytes of `block` repeated (random bytes, so nothing compresses them) and syncs
 * them, so that the write-back is paid now, not during the first measured round (it cost round 1
 * up to 70 %).
 */
export async function writeRandomFile(path: string, size: number, block: Buffer): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let pos = 0; pos < size; pos += block.length) {
      await fh.write(block, 0, Math.min(block.length, size - pos), pos);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `10m`, `1g`: the size part of a fixture's file name. */
export function fileLabel(size: number): string {
  return size >= 1024 * MiB ? `${size / (1024 * MiB)}g` : `${size / MiB}m`;
}

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

/**
 * The size a section writes in `dir`: `wanted` when at least `needed` bytes are free; else (with
 * a note) the largest multiple of `step` in a `share`th of the free space, at most `wanted`. Below
 * `min` the section cannot run.
 */
export async function fitSize(
  dir: string,
  wanted: number,
  o: { needed: number; share: number; step: number; min: number; section: string },
): Promise<{ size: number; note?: string }> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free >= o.needed) return { size: wanted };
  const size = Math.min(wanted, Math.floor(free / o.share / o.step) * o.step);
  const note = `only ${(free / 1024 ** 3).toFixed(1)} GiB free in ${dir}: ${sizeLabel(size)} instead of ${sizeLabel(wanted)}`;
  if (size < o.min) throw new Error(`Cannot run the ${o.section} section: ${note}`);
  return { size, note };
}
