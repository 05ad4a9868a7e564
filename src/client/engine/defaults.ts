/**
 * Every default of the client, declared once (house rule 10): `resolveSettings()` fills the
 * options in from here, and the `@default` of each option in `types.ts` names the same value
 * (test/unit/defaults.test.ts compares them).
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULTS = {
  /** Retries per connection, and of the probe. @default 10 */
  retries: 10,
  /** Redirects followed per request. @default 10 */
  maxRedirects: 10,
  /** Largest file accepted: 64 GiB. @default 68_719_476_736 */
  maxSize: 64 * 1024 * MiB,
  /** No byte (or no response head) for this many ms fails a connection. @default 30_000 */
  stallTimeout: 30_000,
  /** Wait before the first retry in ms; doubles each time, with jitter. @default 500 */
  retryDelay: 500,
  /** Longest wait between retries in ms (Retry-After included). @default 30_000 */
  maxRetryDelay: 30_000,
  /** Journal save period in ms. @default 1_000 */
  saveInterval: 1_000,
  /** A save also after this many new bytes per connection. @default 1 MiB */
  saveBytes: MiB,
  /** Period in ms of the saves that fdatasync the data first (without `sync`). @default 10_000 */
  syncInterval: 10_000,
  /** Segments are never split below this size. @default 256 KiB */
  minSegment: 256 * KiB,
  /** A connection far slower than the others for this long (ms) is reconnected. @default 3_000 */
  slowGrace: 3_000,
  /** Progress callback period in ms. @default 250 */
  progressInterval: 250,
  /** Restarts allowed when the remote file changes during one call. @default 3 */
  maxRestarts: 3,
} as const;

/**
 * The defaults of the upload options that `download()` does not have (the shared ones, such as
 * `retries`, `stallTimeout`, `retryDelay`, are read from DEFAULTS).
 */
export const UPLOAD_DEFAULTS = {
  /** Parallel uploads (tus concatenation). @default 1 */
  connections: 1,
} as const;

/** The sampled digest of a file to upload: this many blocks… @default 16 */
export const SAMPLE_BLOCKS = 16;
/** …of this many bytes. @default 64 KiB */
export const SAMPLE_BLOCK_SIZE = 64 * KiB;
/** With -c N, no partial upload smaller than this. @default 1 MiB */
export const MIN_UPLOAD_PART = MiB;

/**
 * Tuning that is not an option. How often (ms) every connection's speed is sampled for the tail
 * decisions. @default 250
 */
export const SPEED_TICK = 250;

/** Restarts of one slow connection before it is left alone. @default 2 */
export const MAX_SLOW_RESTARTS = 2;

/** The window (ms) of a connection's speed samples. @default 3_000 */
export const SPEED_WINDOW = 3_000;

/**
 * Size of one connection's reused read buffer for `http:` bodies. One connection reads up to
 * 2 MiB at a time (fewer, larger writes: 1 GiB with -c 1 ran at ~1,070 MB/s against ~790 with
 * 1 MiB and ~680 for curl, medians of 6); several share 1 MiB each (two buffers per connection,
 * 64 KiB at least), so that peak RSS stays near 60 MiB whatever -c is (the default, chosen by
 * size, is at most 4).
 */
export function readBufferSize(connections: number | undefined): number {
  return connections === 1 ? 2 * MiB : Math.max(64 * KiB, Math.floor(MiB / (connections ?? 4)));
}
