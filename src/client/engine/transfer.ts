/**
 * `Transfer`: what every pass of one `download()` call shares, read-only: the settings, the
 * paths, the clock, the throttle, the transport and the callbacks to report through. The only
 * counter in it, the bytes fetched, is changed through `countFetched()`; the pass state has its
 * owners (`Run`, `PartStore`, `Scheduler`).
 */
import type { RetryPolicy } from '../../core/backoff.js';
import type { PartPaths } from '../store/part-paths.js';
import type { PrefixDigest } from '../store/prefix-digest.js';
import type { RangeRequestOptions, RangeResponse } from '../transport/range-request.js';
import type { DownloadState } from '../types.js';
import type { Run } from './run.js';
import type { Settings } from './settings.js';
import type { Throttle } from './throttle.js';

/** Sends one request (`requestRange()`, or an in-memory transport in tests). */
export type Transport = (url: string, options: RangeRequestOptions) => Promise<RangeResponse>;

export interface Transfer {
  /** The URL the user gave (kept in the journal). */
  readonly url: string;
  readonly settings: Settings;
  /** `OUT.part`, the durable journal `OUT.part.json` and the live one `OUT.part.live.json`. */
  readonly paths: PartPaths;
  readonly policy: RetryPolicy;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Waits `ms` (rejects when `signal` aborts). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly throttle: Throttle | undefined;
  readonly transport: Transport;
  /** Connection state the transport keeps between requests (the https keep-alive agent). */
  readonly agents: NonNullable<RangeRequestOptions['agents']>;
  /** This machine's boot id (`bootId()`); undefined: unknown, so every journal save syncs. */
  readonly boot: string | undefined;
  /** The `--checksum` hash over the finished prefix, kept across passes; undefined without a
   * checksum. */
  readonly digest: PrefixDigest | undefined;
  /** Bytes received over the network by this call. */
  readonly fetchedBytes: number;
  countFetched(bytes: number): void;
  notice(message: string): void;
  /** Reports progress now, switching to `state` when given. */
  emit(state?: DownloadState): void;
  /** Progress is reported from `run` from now on (undefined: the file is finished). */
  show(run: Run | undefined): void;
}
