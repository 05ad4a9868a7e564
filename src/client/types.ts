/**
 * The public types of the client: what `download()` takes, reports and returns. This module is the
 * bottom of `client/`: every layer (download.ts, engine/, transport/, store/) may import it, and it
 * imports nothing from `client/` (test/unit/architecture.test.ts checks both). The values of the
 * defaults named by `@default` are declared once, in `engine/defaults.ts`.
 */

export type ChecksumAlgorithm = 'sha256' | 'sha1' | 'md5' | 'sha512';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Expected digest, lowercase hex. */
  hex: string;
}

/**
 * `paused` is reported only once a pause has taken effect: every connection closed, the journal
 * saved and the part file closed (a kill -9 from then on loses nothing).
 */
export type DownloadState = 'connecting' | 'downloading' | 'paused' | 'verifying' | 'done';

export interface DownloadProgress {
  state: DownloadState;
  /** Bytes held at verified offsets, resumed bytes included (never more than `total`). */
  bytes: number;
  /** Complete size; undefined when the server did not send one. */
  total: number | undefined;
  /** Rate over the last 5 s, in bytes per second. */
  bytesPerSecond: number;
  /** Seconds left at that rate; undefined when unknown. */
  etaSeconds: number | undefined;
  /** Connections transferring now. */
  connections: number;
}

export interface DownloadResult {
  /** The finished file. */
  path: string;
  size: number;
  /** The URL that served the bytes, after redirects. */
  url: string;
  /** Bytes held from an earlier run when this call started. */
  resumedBytes: number;
  /** Bytes received over the network by this call. */
  fetchedBytes: number;
  /** Times the download started over because the remote file changed or the data could not be
   * trusted. */
  restarts: number;
  /** The verified digest, when a checksum was given. */
  checksum?: Checksum;
}

export interface DownloadHandle {
  /** Settles when the file is complete (and verified), or with a RangedError. */
  readonly done: Promise<DownloadResult>;
  /** Asks the download to stop with the journal saved; `done` stays pending. `onProgress` reports
   * state `paused` (at once, not after `progressInterval`) when it has stopped. */
  pause(): void;
  /** Runs the resume path again after `pause()`. */
  resume(): void;
  /** Whether a pause was asked for and not resumed (it may still be taking effect). */
  readonly paused: boolean;
}

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
   * Header fields sent on every request of the download (the probe, every range, every resume),
   * e.g. `{ Authorization: 'Bearer …' }`. Sent only to the origin of `url`: a redirect to another
   * origin carries none of them (Authorization and Cookie included), as curl does. Range,
   * If-Range, Accept-Encoding, the other preconditions, Host, the connection and framing fields
   * and Proxy-Authorization are the engine's: setting one is a UsageError, as is a malformed
   * name or value. A User-Agent replaces ranged's. @default {} */
  headers?: Record<string, string>;
  /** Skip the verification of TLS certificates (https and the proxy's tunnel): anyone on the
   * path can then read and change the bytes. @default false */
  insecure?: boolean;
  /** PEM certificates to trust for https instead of the default roots (as curl's --cacert).
   * @default Node's root certificates (and NODE_EXTRA_CA_CERTS) */
  ca?: string | Buffer;
  /**
   * Proxy settings, read from the environment when not given: `HTTPS_PROXY` for https URLs,
   * `HTTP_PROXY` for http URLs, `NO_PROXY` for the hosts reached directly (lower-case names win,
   * as in curl). An https URL goes through a CONNECT tunnel, an http URL as an absolute-form
   * request; `http://user:pass@proxy:3128` sends Proxy-Authorization: Basic.
   * @default process.env */
  proxyEnv?: Record<string, string | undefined>;
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

/** The state of an upload; `paused` once the pause took effect (the request stopped). */
export type UploadState = 'connecting' | 'uploading' | 'paused' | 'done';

/** Upload progress, the same shape as DownloadProgress (the CLI draws both with one bar). */
export interface UploadProgress {
  state: UploadState;
  /** Bytes the server confirmed, plus those of the requests in flight. */
  bytes: number;
  /** The file's size. */
  total: number;
  /** Rate over the last 5 s, in bytes per second. */
  bytesPerSecond: number;
  /** Seconds left at that rate; undefined when unknown. */
  etaSeconds: number | undefined;
  /** Connections (uploads) transferring now. */
  connections: number;
}

export interface UploadResult {
  /** The uploaded file (its real path). */
  file: string;
  size: number;
  /** The upload's URL (tus: the final upload's, with concatenation). */
  url: string;
  protocol: 'tus' | 'ietf';
  /** Bytes the server already held when this call started. */
  resumedBytes: number;
  /** Bytes sent by this call (retried chunks counted again). */
  sentBytes: number;
  /** Times the upload started over (the file changed, or the server forgot the upload). */
  restarts: number;
}

export interface UploadHandle {
  /** Settles when the server confirmed the whole upload, or with a RangedError. */
  readonly done: Promise<UploadResult>;
  /** Stops the requests in flight (the state stays saved); `done` stays pending. */
  pause(): void;
  /** Continues after `pause()` from the server's offset. */
  resume(): void;
  /** Whether a pause was asked for and not resumed. */
  readonly paused: boolean;
}

export interface UploadOptions {
  /** Sent as `Authorization: Bearer TOKEN` on every request. */
  token?: string;
  /** The protocol, instead of asking the server with OPTIONS (`Tus-Version` → tus, else the IETF
   * draft). */
  protocol?: 'tus' | 'ietf';
  /** tus: the `filename` metadata (a path below the server's folder). @default the file's base name */
  name?: string;
  /** tus with the concatenation extension: parallel partial uploads, then one final. @default 1 */
  connections?: number;
  /** Send `Upload-Checksum` (sha256 where offered, else sha1) on every tus PATCH. @default false */
  chunkChecksum?: boolean;
  /** Retries after a network failure, a stall, 408, 423, 429, 460 or a 5xx; the count starts
   * again whenever the server's offset advances. @default 10 */
  retries?: number;
  /** Overall rate cap in bytes per second. @default unlimited */
  limitRate?: number;
  /** Bytes per PATCH, fixed (a 413 still halves it). @default 8 MiB first, then what the
   * measured rate carries in a second (in steps of 8 MiB, up to 512 MiB); 8 MiB fixed with
   * `chunkChecksum` */
  chunkSize?: number;
  /** Folder of the state files. @default $XDG_STATE_HOME/ranged, else ~/.local/state/ranged */
  stateDir?: string;
  /** Header fields sent on every request. @default {} */
  headers?: Record<string, string>;
  /** Stops the upload with its state saved; `done` rejects with an AbortedError. */
  signal?: AbortSignal;
  /** Called about every 250 ms, and when the state changes. */
  onProgress?: (progress: UploadProgress) => void;
  /** Called with one-line messages worth showing a user: restarts, fallbacks, retries. */
  onNotice?: (message: string) => void;
  /** No byte accepted (or no answer) for this many ms fails the request. @default 30_000 */
  stallTimeout?: number;
  /** Wait before the first retry in ms; doubles each time, with jitter. @default 500 */
  retryDelay?: number;
  /** Longest wait between retries in ms (Retry-After included). @default 30_000 */
  maxRetryDelay?: number;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}
