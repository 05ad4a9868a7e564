/**
 * The state one download shares between the modules of the engine: `Transfer` (one call of
 * `download()`), `Run` (one pass over an open part file) and `Claim` (the bytes one connection
 * fetches). Types and constructors only; the behaviour lives in the modules named after it.
 */
import type { FileHandle } from 'node:fs/promises';
import type https from 'node:https';
import type { RetryPolicy } from '../../core/backoff.js';
import type { Journal } from '../../core/journal.js';
import type { Sample } from '../../core/progress.js';
import type { RemoteVersion } from '../../core/resume.js';
import type { Span } from '../../core/segments.js';
import type { DownloadState } from '../download.js';
import type { PartPaths } from '../store/part-file.js';
import type { PrefixDigest } from '../store/prefix-digest.js';
import type { Settings } from './settings.js';
import type { Throttle } from './throttle.js';

/** One call of `download()`: settings, shared counters and the callbacks to report through. */
export interface Transfer {
  /** The URL the user gave (kept in the journal). */
  readonly url: string;
  readonly settings: Settings;
  /** `OUT.part`, the durable journal `OUT.part.json` and the live one `OUT.part.live.json`. */
  readonly paths: PartPaths;
  readonly policy: RetryPolicy;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  readonly throttle: Throttle | undefined;
  /** Keep-alive for https (created on first use); http requests use their own sockets. */
  readonly agents: { https?: https.Agent };
  /** This machine's boot id (`bootId()`); undefined: unknown, so every journal save syncs. */
  readonly boot: string | undefined;
  /** The pass in progress, if any. */
  run: Run | undefined;
  /** Connections the current pass may use (lowered when a server refuses extra ones). */
  maxConnections: number;
  /** Bytes received over the network by this call. */
  fetchedBytes: number;
  /** Remainders raced by an idle connection (tail racing). */
  races: number;
  /** The `--checksum` hash over the finished prefix, kept across passes; undefined without a
   * checksum. */
  readonly digest: PrefixDigest | undefined;
  notice(message: string): void;
  /** Reports progress now, switching to `state` when given. */
  emit(state?: DownloadState): void;
}

/** One pass of the resume path over an open part file. */
export interface Run {
  controller: AbortController;
  fh: FileHandle;
  journal: Journal;
  /** Version every response must match. */
  version: RemoteVersion;
  /** Whether the server honours Range. */
  ranged: boolean;
  /** Bytes written (not necessarily durable yet). */
  done: Span[];
  /** Bytes fdatasync'd: what the durable journal claims. Always within `done`. */
  synced: Span[];
  /** When the last synced save started. */
  syncedAt: number;
  /** Bumped when the pass forgets written bytes (`forgetBytes()`). */
  generation: number;
  /** The pass overwrote bytes it once held: sync the file before the rename, even without
   * `--sync`. */
  syncBeforeRename: boolean;
  /** An fdatasync failed: no journal claims any byte beyond `synced` from then on. */
  syncFailed: boolean;
  pool: Span[];
  active: Set<Claim>;
  /** The URL after redirects. */
  url: string;
  /** Bytes written since the last journal save. */
  unsaved: number;
  /** When the last save started (`Transfer.now()`): byte-triggered saves keep a gap after it. */
  savedAt: number;
  /** A synced save in flight (fdatasync, then the durable journal). */
  syncing: Promise<void> | undefined;
  /** A live save in flight. */
  liveSaving: Promise<void> | undefined;
  closed: boolean;
  failure: unknown;
}

/** The bytes one connection fetches. */
export interface Claim {
  /** Next byte this connection writes. */
  cursor: number;
  /** Exclusive end; lowered when another connection steals the upper part. */
  end: number;
  /** End of the bytes received and being written: a steal splits above this, not `cursor`. */
  reserved: number;
  /** Bytes received for this claim (its speed samples count these). */
  received: number;
  samples: Sample[];
  /** Since when it has been slow compared with the others (core slowSegments()). */
  slowSince: number | undefined;
  /** Times it was restarted for being slow. */
  restarts: number;
  /** Set while a restart is requested: the next failure reopens at once, without a retry. */
  restarting: boolean;
  /** The other claim racing for the same remainder (both end at the same byte). */
  rival: Claim | undefined;
  /** It raced or was raced once: never again (a loser's connection would race the winner). */
  raced: boolean;
  /** Closes the response being read, if any. */
  stop: (() => void) | undefined;
}

export function newClaim(cursor: number, end: number): Claim {
  return {
    cursor,
    end,
    reserved: cursor,
    received: 0,
    samples: [],
    slowSince: undefined,
    restarts: 0,
    restarting: false,
    rival: undefined,
    raced: false,
    stop: undefined,
  };
}

/** Stops the run with `error` (the first failure wins; an abort is not a failure). */
export function failRun(run: Run, error: unknown): void {
  if (run.failure === undefined && !run.controller.signal.aborted) run.failure = error;
  if (!run.controller.signal.aborted) run.controller.abort(error);
}
