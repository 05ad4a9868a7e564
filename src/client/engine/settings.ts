/**
 * `DownloadOptions`, and `resolveSettings()`, which checks them and fills in every default in one
 * place (house rule 10: limits are parameters with documented defaults).
 */
import { UsageError } from '../../errors.js';
import type { DownloadProgress } from '../download.js';
import { type Checksum, parseChecksum } from '../store/checksum.js';

const MiB = 1024 * 1024;
/** `maxSize` when none is given: 64 GiB. */
export const DEFAULT_MAX_SIZE = 64 * 1024 * MiB;

export interface DownloadOptions {
  /** Path of the finished file. While downloading, the data is in `OUT.part` and the journal in
   * `OUT.part.json`, beside it. */
  output: string;
  /** Parallel connections on a range-capable server. @default 4 for files of 4 MiB or more, else 1 */
  connections?: number;
  /** `ALGO:HEX` (sha256, sha1, md5, sha512), or a parsed Checksum; verified before the rename. */
  checksum?: string | Checksum;
  /** Retries per connection after a network failure, a stall, 408, 429 or a 5xx; the count starts
   * again whenever a connection makes progress. @default 10 */
  retries?: number;
  /** Overall rate cap in bytes per second. @default unlimited */
  limitRate?: number;
  /** Replace an existing `output`, and discard an unreadable or foreign journal. @default false */
  force?: boolean;
  /** Stops the download with the journal saved; `done` rejects with an AbortedError. */
  signal?: AbortSignal;
  /** Called about every `progressInterval` ms, and once when the state changes. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Called with one-line messages worth showing a user: restarts, fallbacks, retries. */
  onNotice?: (message: string) => void;
  /** Redirects followed per request. @default 10 */
  maxRedirects?: number;
  /**
   * Largest file accepted, in bytes; `Infinity` for no limit. A larger declared length (the
   * Content-Length of a 200, the complete length of a Content-Range) is refused before any byte
   * is written, and nothing on disk changes: no part file or journal is created, and those of an
   * earlier run are kept (a rerun with a larger limit continues them). A body without a length
   * is stopped as it passes the limit (never more than `maxSize` bytes are written), and its
   * part file and journals are deleted: the data is unusable and would only fill the disk again.
   * Either way `done` rejects with a SizeLimitError, which is never retried.
   * @default 64 GiB (68_719_476_736) */
  maxSize?: number;
  /** Follow a redirect from `https:` to `http:`. Such a hop drops TLS: anyone on the path could
   * then change the bytes or where they come from, so by default it is refused (an
   * HttpStatusError) at every hop, including the redirects resolved again on a resume or when a
   * redirect target expired. @default false */
  allowInsecureRedirect?: boolean;
  /** No byte for this many ms fails the connection (then it is retried). @default 30_000 */
  stallTimeout?: number;
  /** Wait before the first retry in ms; doubles each time, with jitter. @default 500 */
  retryDelay?: number;
  /** Longest wait between retries in ms (Retry-After included). @default 30_000 */
  maxRetryDelay?: number;
  /** Journal save period in ms: a killed process re-fetches at most about this much time of
   * data. @default 1_000 */
  saveInterval?: number;
  /** Also save after this many new bytes per connection, but at most every `saveInterval / 20`
   * ms. @default 1 MiB */
  saveBytes?: number;
  /** fdatasync the data before every journal save, and the whole file before the rename to
   * `output`: a power cut or OS crash then loses at most about `saveInterval` of progress and never
   * leaves an incomplete `output`. Costs throughput when the disk is slower than the network.
   * Without it, a killed process still loses nothing it wrote (the live journal), and the
   * data is synced every `syncInterval`. @default false */
  sync?: boolean;
  /** Without `sync`: period in ms of the saves that fdatasync the data first (what survives a
   * crash of the machine). @default 10_000 */
  syncInterval?: number;
  /** Segments are never split below this size (planning and work stealing). @default 256 KiB */
  minSegment?: number;
  /** A connection below 0.3x the median speed of the others for this long (ms) is reconnected.
   * @default 3_000 */
  slowGrace?: number;
  /** Progress callback period in ms. @default 250 */
  progressInterval?: number;
  /** Restarts allowed when the remote file changes during one call. @default 3 */
  maxRestarts?: number;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/** The options with every default filled in (see `DownloadOptions` for each meaning). */
export interface Settings {
  output: string;
  /** undefined: chosen by size (core `connectionsFor()`). */
  connections: number | undefined;
  checksum: Checksum | undefined;
  retries: number;
  force: boolean;
  maxRedirects: number;
  /** Bytes; Infinity for no limit. */
  maxSize: number;
  allowInsecureRedirect: boolean;
  stallTimeout: number;
  saveInterval: number;
  saveBytes: number;
  sync: boolean;
  syncInterval: number;
  minSegment: number;
  slowGrace: number;
  progressInterval: number;
  maxRestarts: number;
}

/** Checks `url` and `options` (UsageError when they cannot work) and fills in the defaults. */
export function resolveSettings(url: string, options: DownloadOptions): Settings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`Cannot download "${url}": not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`Cannot download "${url}": only http and https URLs are supported`);
  }
  const c = options.connections;
  if (c !== undefined && (!Number.isSafeInteger(c) || c < 1 || c > 64)) {
    throw new UsageError(`Cannot use ${c} connections: expected an integer from 1 to 64`);
  }
  const r = options.retries;
  if (r !== undefined && (!Number.isSafeInteger(r) || r < 0)) {
    throw new UsageError(`Cannot use ${r} retries: expected a non-negative integer`);
  }
  for (const [name, value] of [
    ['saveInterval', options.saveInterval],
    ['syncInterval', options.syncInterval],
  ] as const) {
    if (value !== undefined && !(value > 0)) {
      throw new UsageError(`Cannot use ${name} ${value}: expected a positive number of ms`);
    }
  }
  const m = options.maxSize;
  if (m !== undefined && !(Number.isSafeInteger(m) && m >= 1) && m !== Number.POSITIVE_INFINITY) {
    throw new UsageError(
      `Cannot use maxSize ${m}: expected a positive integer number of bytes, or Infinity`,
    );
  }
  const checksum = options.checksum;
  return {
    output: options.output,
    connections: c,
    checksum: typeof checksum === 'string' ? parseChecksum(checksum) : checksum,
    retries: r ?? 10,
    force: options.force === true,
    maxRedirects: options.maxRedirects ?? 10,
    maxSize: m ?? DEFAULT_MAX_SIZE,
    allowInsecureRedirect: options.allowInsecureRedirect === true,
    stallTimeout: options.stallTimeout ?? 30_000,
    saveInterval: options.saveInterval ?? 1_000,
    saveBytes: options.saveBytes ?? MiB,
    sync: options.sync === true,
    syncInterval: options.syncInterval ?? 10_000,
    minSegment: options.minSegment ?? 256 * 1024,
    slowGrace: options.slowGrace ?? 3_000,
    progressInterval: options.progressInterval ?? 250,
    maxRestarts: options.maxRestarts ?? 3,
  };
}
