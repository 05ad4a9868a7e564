/**
 * `download(url, options)`: a resumable, segmented, verified HTTP download.
 *
 * The data lives in `OUT.part`, its journal in `OUT.part.json`; `OUT` appears only when every byte
 * is held (and the checksum matches), by an atomic rename. The decisions are made by core/:
 * `segments.ts` (who fetches which bytes), `journal.ts` (what is saved), `resume.ts` (whether a
 * response or a journal can be trusted), `backoff.ts` (retries) and `progress.ts` (rate, ETA).
 * This module only moves bytes and calls them.
 *
 * Pause, abort and a crash are one case: the transfer stops with the journal saved, and going on
 * means running the resume path again (load the journal, probe with If-Range, plan, fetch).
 */
import { constants } from 'node:fs';
import { access, type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import type https from 'node:https';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isRetryableStatus,
  nextDelay,
  parseRetryAfter,
  type RetryPolicy,
} from '../core/backoff.js';
import { type Journal, newJournal } from '../core/journal.js';
import { addSample, eta, rate, type Sample } from '../core/progress.js';
import {
  type Asked,
  canResume,
  checkResponse,
  ifRangeValue,
  type RemoteVersion,
  type Verdict,
} from '../core/resume.js';
import {
  addSpan,
  heldPrefix,
  idleAction,
  planSegments,
  type Span,
  slowSegments,
  spanBytes,
} from '../core/segments.js';
import {
  AbortedError,
  ChecksumMismatchError,
  FileSystemError,
  HttpStatusError,
  JournalError,
  NetworkError,
  ProtocolError,
  RangedError,
  RemoteChangedError,
  UsageError,
} from '../errors.js';
import { type Checksum, hashFile, parseChecksum } from './checksum.js';
import { networkCode, type RangeResponse, requestRange } from './fetch-range.js';
import { fsError } from './fs-error.js';
import { loadJournal, removeJournal, saveJournal, syncDirectory } from './journal-file.js';
import { createThrottle, type Throttle } from './throttle.js';

const MiB = 1024 * 1024;
/** How often (ms) every connection's speed is sampled for the tail decisions. */
const SPEED_TICK = 250;
/** Restarts of one slow connection before it is left alone. */
const MAX_SLOW_RESTARTS = 2;

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
  /** No byte for this many ms fails the connection (then it is retried). @default 30_000 */
  stallTimeout?: number;
  /** Wait before the first retry in ms; doubles each time, with jitter. @default 500 */
  retryDelay?: number;
  /** Longest wait between retries in ms (Retry-After included). @default 30_000 */
  maxRetryDelay?: number;
  /** Journal save period in ms: a crash re-fetches at most about this much time of data. @default 1_000 */
  saveInterval?: number;
  /** Also save after this many new bytes per connection. @default 1 MiB */
  saveBytes?: number;
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
  /** Closes every connection after saving the journal; `done` stays pending. */
  pause(): void;
  /** Runs the resume path again after `pause()`. */
  resume(): void;
  readonly paused: boolean;
}

/** Internal: the run stopped for a pause; never leaves this module. */
class PauseStop extends AbortedError {}
/** Internal: start over (remote changed, or bytes cannot be trusted). */
class RestartNeeded extends RemoteChangedError {}
/** Internal: a status that may be retried, with the server's Retry-After. */
class StatusFailure extends HttpStatusError {
  retryAfterMs: number | undefined;
  constructor(
    message: string,
    details: { status: number; url: string },
    retryAfterMs: number | undefined,
  ) {
    super(message, details);
    this.retryAfterMs = retryAfterMs;
  }
}
/** Internal: this connection is refused but others work; continue with fewer. */
class Retire extends HttpStatusError {}

interface Claim {
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

function newClaim(cursor: number, end: number): Claim {
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

interface Run {
  controller: AbortController;
  fh: FileHandle;
  journal: Journal;
  /** Version every response must match. */
  version: RemoteVersion;
  /** Whether the server honours Range. */
  ranged: boolean;
  /** Bytes written (not necessarily durable yet). */
  done: Span[];
  pool: Span[];
  active: Set<Claim>;
  /** The URL after redirects. */
  url: string;
  /** Bytes written since the last journal save. */
  unsaved: number;
  saving: Promise<void> | undefined;
  closed: boolean;
  failure: unknown;
}

/**
 * Starts downloading `url` to `options.output`. Returns at once with a handle: await
 * `handle.done` for the result; `pause()`/`resume()` stop and continue; `options.signal` aborts.
 */
export function download(url: string, options: DownloadOptions): DownloadHandle {
  const engine = new Engine(url, options);
  const done = engine.start();
  return {
    done,
    pause: () => engine.pause(),
    resume: () => engine.resume(),
    get paused() {
      return engine.isPaused;
    },
  };
}

/** The part and journal paths beside `output`. */
export function partPaths(output: string): { part: string; journal: string } {
  return { part: `${output}.part`, journal: `${output}.part.json` };
}

class Engine {
  readonly url: string;
  readonly options: DownloadOptions;
  readonly paths: { part: string; journal: string };
  readonly policy: RetryPolicy;
  readonly now: () => number;
  readonly throttle: Throttle | undefined;
  /** Keep-alive for https (created on first use); http requests use their own sockets. */
  readonly agents: { https?: https.Agent } = {};
  isPaused = false;
  /** Stops the current pass (pause, abort, a fatal error). */
  controller: AbortController | undefined;
  resumeWaiter: (() => void) | undefined;
  run: Run | undefined;
  maxConnections = 1;
  fetchedBytes = 0;
  resumedBytes: number | undefined;
  restarts = 0;
  /** Remainders raced by an idle connection (tail racing). */
  races = 0;
  state: DownloadState = 'connecting';
  samples: Sample[] = [];
  checksum: Checksum | undefined;

  constructor(url: string, options: DownloadOptions) {
    this.url = url;
    this.options = options;
    this.paths = partPaths(options.output);
    this.now = options.now ?? (() => performance.now());
    this.policy = {
      baseDelay: options.retryDelay ?? 500,
      maxDelay: options.maxRetryDelay ?? 30_000,
      random: options.random ?? Math.random,
    };
    this.throttle =
      options.limitRate === undefined ? undefined : createThrottle(options.limitRate, this.now);
  }

  /** `connections`, or by default 4 for files of 4 MiB or more and 1 below. */
  connectionsFor(size: number): number {
    return this.options.connections ?? (size >= 4 * MiB ? 4 : 1);
  }

  notice(message: string): void {
    this.options.onNotice?.(message);
  }

  pause(): void {
    if (this.isPaused) return;
    this.isPaused = true;
    this.controller?.abort(new PauseStop('Paused'));
    this.emit('paused');
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.resumeWaiter?.();
  }

  async start(): Promise<DownloadResult> {
    const timer = setInterval(() => this.emit(), this.options.progressInterval ?? 250);
    try {
      this.validate();
      for (;;) {
        if (this.options.signal?.aborted) throw this.aborted();
        if (this.isPaused) {
          await this.waitForResume();
          continue;
        }
        try {
          const result = await this.attempt();
          this.emit('done');
          return result;
        } catch (error) {
          if (error instanceof PauseStop) continue;
          if (error instanceof RestartNeeded) {
            this.restarts++;
            if (this.restarts > (this.options.maxRestarts ?? 3)) {
              throw new RemoteChangedError(
                `Cannot download "${this.url}": the remote file kept changing (${this.restarts} restarts); last: ${error.message}`,
              );
            }
            this.notice(`Remote file changed (${error.message}): starting over`);
            await this.discard();
            continue;
          }
          throw error;
        }
      }
    } finally {
      clearInterval(timer);
      this.agents.https?.destroy();
    }
  }

  validate(): void {
    let parsed: URL;
    try {
      parsed = new URL(this.url);
    } catch {
      throw new UsageError(`Cannot download "${this.url}": not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`Cannot download "${this.url}": only http and https URLs are supported`);
    }
    const c = this.options.connections;
    if (c !== undefined && (!Number.isSafeInteger(c) || c < 1 || c > 64)) {
      throw new UsageError(`Cannot use ${c} connections: expected an integer from 1 to 64`);
    }
    const r = this.options.retries;
    if (r !== undefined && (!Number.isSafeInteger(r) || r < 0)) {
      throw new UsageError(`Cannot use ${r} retries: expected a non-negative integer`);
    }
    const checksum = this.options.checksum;
    this.checksum = typeof checksum === 'string' ? parseChecksum(checksum) : checksum;
  }

  aborted(): AbortedError {
    return new AbortedError(
      `Cannot finish "${this.options.output}": stopped, progress saved in "${this.paths.journal}"`,
    );
  }

  async waitForResume(): Promise<void> {
    const signal = this.options.signal;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => resolve();
      this.resumeWaiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.resumeWaiter = undefined;
  }

  emit(state?: DownloadState): void {
    if (state !== undefined) this.state = state;
    const onProgress = this.options.onProgress;
    const run = this.run;
    const bytes = run === undefined ? 0 : spanBytes(run.done);
    this.samples = addSample(this.samples, { time: this.now(), bytes: this.fetchedBytes });
    if (onProgress === undefined) return;
    const total = run?.journal.size;
    const bps = this.state === 'downloading' ? rate(this.samples) : 0;
    onProgress({
      state: this.isPaused ? 'paused' : this.state,
      bytes,
      total,
      bytesPerSecond: bps,
      etaSeconds: total === undefined ? undefined : eta(total - bytes, bps),
      connections: this.state === 'downloading' && run !== undefined ? run.active.size : 0,
    });
  }

  /** Deletes the part file and the journal (a restart, or data that failed verification). */
  async discard(): Promise<void> {
    await removeJournal(this.paths.journal);
    try {
      await unlink(this.paths.part);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw fsError('remove', this.paths.part, error);
    }
  }

  async outputExists(): Promise<boolean> {
    try {
      await access(this.options.output, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Loads the journal and decides whether its bytes can be trusted; undefined means start over. */
  async loadTrusted(): Promise<Journal | undefined> {
    const force = this.options.force === true;
    let journal: Journal | undefined;
    try {
      journal = await loadJournal(this.paths.journal);
    } catch (error) {
      if (!(error instanceof JournalError)) throw error;
      if (!force) {
        throw new JournalError(`${error.message} (delete it, or use --force to start over)`, {
          cause: error,
        });
      }
      this.notice(`${error.message}: starting over`);
      return undefined;
    }
    if (journal === undefined) return undefined;
    if (journal.url !== this.url) {
      const message = `Cannot resume "${this.options.output}": journal "${this.paths.journal}" is for "${journal.url}"`;
      if (!force) throw new JournalError(`${message} (delete it, or use --force to start over)`);
      this.notice(`${message}: starting over`);
      return undefined;
    }
    let partSize: number;
    try {
      partSize = (await stat(this.paths.part)).size;
    } catch {
      if (journal.done.length > 0) this.notice(`"${this.paths.part}" is missing: starting over`);
      return undefined;
    }
    const expected = journal.size ?? heldPrefix(journal.done);
    if (journal.size === undefined ? partSize < expected : partSize !== expected) {
      this.notice(
        `"${this.paths.part}" has ${partSize} bytes, the journal expects ${expected}: starting over`,
      );
      return undefined;
    }
    if (journal.done.length === 0) return journal;
    const verdict = canResume(journal);
    if (verdict.kind === 'restart') {
      this.notice(`Cannot resume "${this.options.output}": ${verdict.reason}; starting over`);
      return undefined;
    }
    return journal;
  }

  /** One pass of the resume path: load, probe, plan, fetch, verify, rename. */
  async attempt(): Promise<DownloadResult> {
    const output = this.options.output;
    if (this.options.force !== true && (await this.outputExists())) {
      throw new FileSystemError(
        `Cannot save "${output}": the file exists (use --force to replace it)`,
      );
    }
    this.emit('connecting');
    let journal = await this.loadTrusted();
    if (journal === undefined) await this.discard();
    this.resumedBytes ??= journal === undefined ? 0 : spanBytes(journal.done);
    const controller = new AbortController();
    this.controller = controller;
    const onAbort = (): void => controller.abort(this.aborted());
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (journal?.size !== undefined && spanBytes(journal.done) === journal.size) {
        return await this.finish(await this.openRun(journal, controller, false, true, this.url));
      }
      // The probe: `bytes=S-` where S is the first missing byte on a new download; when resuming,
      // exactly the first planned segment, with If-Range (an open range would make the server
      // send more than this connection keeps).
      const rangedProbe = journal === undefined || journal.acceptRanges;
      let asked: Asked = { start: 0, end: undefined, ranged: rangedProbe };
      if (journal !== undefined && rangedProbe && journal.size !== undefined) {
        const first = planSegments(journal.size, {
          connections: this.connectionsFor(journal.size),
          minBytes: this.options.minSegment ?? 256 * 1024,
          done: journal.done,
        })[0];
        if (first !== undefined) asked = { start: first.start, end: first.end, ranged: true };
      }
      const { res, verdict } = await this.openChecked(asked, journal, controller.signal, true);
      if (verdict.kind === 'changed') {
        res.body.destroy();
        throw new RestartNeeded(verdict.reason);
      }
      if (verdict.kind === 'complete') {
        res.body.destroy();
        // Only a new download of an empty file gets here: 416 with `bytes */0`.
        const empty = newJournal(this.url, {
          size: 0,
          etag: undefined,
          lastModified: undefined,
          acceptRanges: true,
        });
        return await this.finish(await this.openRun(empty, controller, true, false, res.url));
      }
      if (verdict.kind === 'partial') {
        if (journal === undefined) {
          journal = newJournal(this.url, { ...verdict.version, acceptRanges: true });
        }
        const run = await this.openRun(
          journal,
          controller,
          true,
          spanBytes(journal.done) > 0,
          res.url,
        );
        return await this.fetchRanged(run, { claimStart: verdict.start, res });
      }
      if (verdict.kind !== 'full')
        throw new ProtocolError(`Cannot download "${this.url}": unexpected response`);
      // A 200: the server ignores Range (or the file changed and If-Range said so).
      const size = verdict.version.size;
      if (journal !== undefined && verdict.sameVersion && journal.size === size) {
        if (journal.acceptRanges) {
          this.notice('The server ignored the Range request: continuing as one plain stream');
        }
        journal = { ...journal, acceptRanges: false };
      } else {
        if (journal !== undefined && journal.done.length > 0) {
          res.body.destroy();
          throw new RestartNeeded(
            verdict.sameVersion
              ? `size is ${size ?? 'unknown'}, expected ${journal.size}`
              : 'the server answered 200 to If-Range',
          );
        }
        journal = newJournal(this.url, { ...verdict.version, acceptRanges: false });
        this.notice(
          'The server does not support ranges: one connection; an interrupted download will fetch again from the start',
        );
      }
      const run = await this.openRun(
        journal,
        controller,
        false,
        spanBytes(journal.done) > 0,
        res.url,
      );
      return await this.fetchPlain(run, res);
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Opens `OUT.part` (created and sized for a new journal) and writes the first journal. */
  async openRun(
    journal: Journal,
    controller: AbortController,
    ranged: boolean,
    resuming: boolean,
    url: string,
  ): Promise<Run> {
    const part = this.paths.part;
    let fh: FileHandle;
    try {
      fh = await open(part, resuming ? 'r+' : 'w+');
      if (!resuming) {
        if (journal.size !== undefined) await fh.truncate(journal.size);
        await fh.sync();
        await syncDirectory(dirname(part));
      }
    } catch (error) {
      throw fsError('write', part, error);
    }
    if (!resuming) {
      try {
        await saveJournal(this.paths.journal, journal);
      } catch (error) {
        await fh.close();
        throw error;
      }
    }
    const run: Run = {
      controller,
      fh,
      journal,
      version: { size: journal.size, etag: journal.etag, lastModified: journal.lastModified },
      ranged,
      done: journal.done.map((s) => ({ ...s })),
      pool: [],
      active: new Set(),
      url,
      unsaved: 0,
      saving: undefined,
      closed: false,
      failure: undefined,
    };
    this.run = run;
    return run;
  }

  /**
   * Sends one request and checks the response. Retries network failures and retryable statuses
   * (the probe only; connections retry in `fetchClaim`). Resolves with a response whose verdict
   * is partial, full, changed or complete.
   */
  async openChecked(
    asked: Asked,
    expected: RemoteVersion | undefined,
    signal: AbortSignal,
    probe: boolean,
  ): Promise<{ res: RangeResponse; verdict: Verdict }> {
    const ifRange = expected === undefined || !asked.ranged ? undefined : ifRangeValue(expected);
    const retries = this.options.retries ?? 10;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openOnce(this.run?.url ?? this.url, asked, ifRange, expected, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!probe) throw error;
        const code = networkCode(error);
        // Nothing listens there, or the name does not resolve: no point waiting (curl and wget agree).
        if (this.fetchedBytes === 0 && (code === 'ECONNREFUSED' || code === 'ENOTFOUND'))
          throw error;
        if (!isRetryable(error) || attempt > retries) throw error;
        const delay = nextDelay(attempt, this.policy, (error as StatusFailure).retryAfterMs);
        this.notice(
          `${(error as Error).message}; retrying in ${formatSeconds(delay)} (${attempt}/${retries})`,
        );
        await sleep(delay, undefined, { signal });
      }
    }
  }

  async openOnce(
    url: string,
    asked: Asked,
    ifRange: string | undefined,
    expected: RemoteVersion | undefined,
    signal: AbortSignal,
  ): Promise<{ res: RangeResponse; verdict: Verdict }> {
    const res = await requestRange(url, {
      range: asked.ranged ? { start: asked.start, end: asked.end } : undefined,
      ifRange,
      signal,
      maxRedirects: this.options.maxRedirects ?? 10,
      timeout: this.options.stallTimeout ?? 30_000,
      agents: this.agents,
    });
    const h = res.headers;
    const verdict = checkResponse(
      asked,
      {
        status: res.status,
        contentRange: h['content-range'],
        contentLength: h['content-length'],
        contentEncoding: h['content-encoding'],
        etag: h.etag,
        lastModified: h['last-modified'],
      },
      expected,
    );
    if (verdict.kind === 'invalid') {
      res.body.destroy();
      throw new ProtocolError(`Cannot download "${this.url}": ${verdict.reason}`);
    }
    if (verdict.kind === 'status') {
      res.body.destroy();
      const status = verdict.status;
      const message =
        `Cannot download "${this.url}": the server answered ${status} ${res.statusMessage}`.trimEnd();
      const retryAfter = parseRetryAfter(firstHeader(h['retry-after']), Date.now());
      throw new StatusFailure(message, { status, url: res.url }, retryAfter);
    }
    return { res, verdict };
  }

  /** Ranged mode: plan segments, start connections, steal work, until every byte is held. */
  async fetchRanged(
    run: Run,
    first: { claimStart: number; res: RangeResponse },
  ): Promise<DownloadResult> {
    const size = run.journal.size as number;
    this.maxConnections = this.connectionsFor(size);
    const minBytes = this.options.minSegment ?? 256 * 1024;
    const saveTimer = setInterval(() => this.save(run), this.options.saveInterval ?? 1_000);
    const speedTimer = setInterval(() => this.checkSpeeds(run), SPEED_TICK);
    let firstRes: RangeResponse | undefined = first.res;
    this.emit('downloading');
    try {
      while (spanBytes(run.done) < size) {
        // Round 2+ happens only when work came back to the pool after the other connections had
        // left (a refused extra connection): plan again from what is missing.
        const plan = planSegments(size, {
          connections: this.maxConnections,
          minBytes,
          done: run.done,
        });
        const workers: Promise<void>[] = [];
        if (firstRes !== undefined) {
          const index = plan.findIndex((s) => s.start === first.claimStart);
          const span = plan.splice(Math.max(index, 0), 1)[0] as Span;
          const claim = newClaim(span.start, span.end);
          run.active.add(claim);
          run.pool = plan;
          workers.push(this.worker(run, claim, firstRes));
          firstRes = undefined;
        } else {
          run.pool = plan;
        }
        while (
          workers.length < this.maxConnections &&
          (run.pool.length > 0 || workers.length > 0)
        ) {
          workers.push(this.worker(run, undefined, undefined));
        }
        const before = spanBytes(run.done);
        await Promise.allSettled(workers);
        if (run.controller.signal.aborted || run.failure !== undefined) break;
        if (spanBytes(run.done) === before && spanBytes(run.done) < size) {
          throw new ProtocolError(`Cannot download "${this.url}": no connection made progress`);
        }
      }
    } catch (error) {
      this.fail(run, error);
    } finally {
      clearInterval(saveTimer);
      clearInterval(speedTimer);
    }
    firstRes?.body.destroy();
    return this.settle(run);
  }

  /** Plain mode: one stream without Range, skipping the bytes already held. */
  async fetchPlain(run: Run, res: RangeResponse): Promise<DownloadResult> {
    this.maxConnections = 1;
    const saveTimer = setInterval(() => this.save(run), this.options.saveInterval ?? 1_000);
    const claim = newClaim(heldPrefix(run.done), run.journal.size ?? Infinity);
    // Bytes past the held prefix are fetched again in order; forget them.
    run.done = claim.cursor > 0 ? [{ start: 0, end: claim.cursor }] : [];
    run.active.add(claim);
    this.emit('downloading');
    try {
      await this.fetchClaim(run, claim, res, 0);
    } catch (error) {
      this.fail(run, error);
    } finally {
      run.active.delete(claim);
      clearInterval(saveTimer);
    }
    if (
      run.journal.size === undefined &&
      run.failure === undefined &&
      !run.controller.signal.aborted
    ) {
      run.journal = { ...run.journal, size: claim.cursor };
    }
    return this.settle(run);
  }

  fail(run: Run, error: unknown): void {
    if (run.failure === undefined && !run.controller.signal.aborted) run.failure = error;
    if (!run.controller.signal.aborted) run.controller.abort(error);
  }

  /** After the connections stop: save, close, then finish or report why it stopped. */
  async settle(run: Run): Promise<DownloadResult> {
    await run.saving;
    let saveError: unknown;
    try {
      await this.saveNow(run);
    } catch (error) {
      saveError = error;
    }
    const signal = run.controller.signal;
    if (run.failure !== undefined || signal.aborted || saveError !== undefined) {
      run.closed = true;
      await run.fh.close();
      if (run.failure !== undefined) throw run.failure;
      if (signal.aborted) {
        const reason: unknown = signal.reason;
        if (reason instanceof PauseStop) this.emit('paused');
        throw reason instanceof RangedError ? reason : this.aborted();
      }
      throw saveError;
    }
    return this.finish(run);
  }

  /** Every byte is held: sync, verify, rename, remove the journal. */
  async finish(run: Run): Promise<DownloadResult> {
    const output = this.options.output;
    const size = run.journal.size ?? spanBytes(run.done);
    if (!run.closed) {
      try {
        await run.fh.sync();
      } catch (error) {
        throw fsError('write', this.paths.part, error);
      } finally {
        run.closed = true;
        await run.fh.close();
      }
      await saveJournal(this.paths.journal, {
        ...run.journal,
        size,
        done: [{ start: 0, end: size }],
      });
    }
    this.emit('verifying');
    const checksum = this.checksum;
    if (checksum !== undefined) {
      const actual = await hashFile(this.paths.part, checksum.algorithm);
      if (actual !== checksum.hex) {
        await this.discard();
        throw new ChecksumMismatchError(
          `Cannot verify "${output}": ${checksum.algorithm} is ${actual}, expected ${checksum.hex}; the download was discarded`,
          { expected: checksum.hex, actual },
        );
      }
    }
    if (this.options.force !== true && (await this.outputExists())) {
      throw new FileSystemError(
        `Cannot save "${output}": the file exists (use --force to replace it)`,
      );
    }
    try {
      await rename(this.paths.part, output);
    } catch (error) {
      throw fsError('rename', this.paths.part, error);
    }
    await syncDirectory(dirname(output));
    await removeJournal(this.paths.journal);
    this.run = undefined;
    this.state = 'done';
    const result: DownloadResult = {
      path: output,
      size,
      url: run.url,
      resumedBytes: this.resumedBytes ?? 0,
      fetchedBytes: this.fetchedBytes,
      restarts: this.restarts,
    };
    if (checksum !== undefined) result.checksum = checksum;
    return result;
  }

  /** Starts a save unless one is running (timer and byte-count triggers). */
  save(run: Run): void {
    if (run.saving !== undefined || run.closed) return;
    run.saving = this.saveNow(run)
      .catch((error: unknown) => this.fail(run, error))
      .finally(() => {
        run.saving = undefined;
      });
  }

  /**
   * House rule 8: the spans are read first, then the data is fdatasync'd, then the journal that
   * claims them replaces the old one. A crash at any point leaves a journal that claims only bytes
   * that are on disk.
   */
  async saveNow(run: Run): Promise<void> {
    if (run.closed) return;
    const done = run.done;
    run.unsaved = 0;
    try {
      await run.fh.datasync();
    } catch (error) {
      throw fsError('write', this.paths.part, error);
    }
    run.journal = { ...run.journal, done };
    await saveJournal(this.paths.journal, run.journal);
  }

  /**
   * Takes the next segment from the pool; else steals half of the largest remainder; else races
   * the remainder expected to finish last (core idleAction()).
   */
  claim(run: Run): Claim | undefined {
    if (run.controller.signal.aborted) return undefined;
    const span = run.pool.shift();
    if (span !== undefined) {
      const claim = newClaim(span.start, span.end);
      run.active.add(claim);
      return claim;
    }
    const active = [...run.active];
    const action = idleAction(
      active.map((c) => ({
        cursor: Math.max(c.cursor, c.reserved),
        end: c.end,
        bytesPerSecond: speedOf(c),
        raced: c.raced,
      })),
      { minBytes: this.options.minSegment ?? 256 * 1024 },
    );
    if (action.kind === 'none') return undefined;
    const victim = active[action.index] as Claim;
    if (action.kind === 'steal') {
      const claim = newClaim(action.at, victim.end);
      victim.end = action.at; // the victim stops at `at` (its sink re-reads `end` per chunk)
      run.active.add(claim);
      return claim;
    }
    // A race: both fetch the same bytes from the same version (every 206 is checked against the
    // journal's validators), so writing them twice at the same offsets is harmless. Whichever
    // cursor gets ahead wins; the other is stopped (see `overtake()`).
    const claim = newClaim(victim.cursor, victim.end);
    claim.rival = victim;
    victim.rival = claim;
    claim.raced = true;
    victim.raced = true;
    run.active.add(claim);
    this.races++;
    return claim;
  }

  /**
   * After a write by `claim` in a race: once its cursor reaches its rival's, every byte the rival
   * still wants is written or will be written by `claim`, so the rival stops.
   */
  overtake(claim: Claim): void {
    const rival = claim.rival;
    if (rival === undefined || claim.cursor < rival.cursor) return;
    claim.rival = undefined;
    rival.rival = undefined;
    rival.end = Math.min(rival.end, rival.cursor);
    rival.stop?.();
  }

  /** Samples every claim's speed and restarts those that stay far slower than the others. */
  checkSpeeds(run: Run): void {
    const now = this.now();
    const claims = [...run.active];
    for (const c of claims) {
      c.samples = addSample(c.samples, { time: now, bytes: c.received }, { window: 3_000 });
    }
    const { slowSince, restart } = slowSegments(
      claims.map((c) => ({
        bytesPerSecond: speedOf(c),
        left: c.rival === undefined ? c.end - c.cursor : 0,
        slowSince: c.slowSince,
      })),
      {
        now,
        graceMs: this.options.slowGrace ?? 3_000,
        minBytes: this.options.minSegment ?? 256 * 1024,
      },
    );
    claims.forEach((c, i) => {
      c.slowSince = slowSince[i];
    });
    for (const i of restart) {
      const c = claims[i] as Claim;
      if (c.restarts >= MAX_SLOW_RESTARTS || c.stop === undefined) continue;
      c.restarts++;
      c.restarting = true;
      c.slowSince = undefined;
      c.samples = [];
      this.notice(
        `A connection at byte ${c.cursor} is much slower than the others: reconnecting (${c.restarts}/${MAX_SLOW_RESTARTS})`,
      );
      c.stop();
    }
  }

  async worker(run: Run, first: Claim | undefined, res: RangeResponse | undefined): Promise<void> {
    let claim = first;
    let response = res;
    try {
      for (;;) {
        claim ??= this.claim(run);
        if (claim === undefined) {
          // Nothing to steal or race yet. While a segment that might turn out slow is still
          // running (its speed is measured after a second), stay around to race it.
          if (![...run.active].some((c) => !c.raced && c.cursor < c.end)) return;
          await sleep(SPEED_TICK, undefined, { signal: run.controller.signal }).catch(
            () => undefined,
          );
          if (run.controller.signal.aborted) return;
          continue;
        }
        try {
          await this.fetchClaim(run, claim, response, claim.cursor);
        } finally {
          run.active.delete(claim);
          if (claim.rival !== undefined) claim.rival.rival = undefined;
          claim.rival = undefined;
        }
        claim = undefined;
        response = undefined;
      }
    } catch (error) {
      if (error instanceof Retire) {
        this.notice(`${error.message}: continuing with ${this.maxConnections} connection(s)`);
        return;
      }
      if (!run.controller.signal.aborted) this.fail(run, error);
    }
  }

  /**
   * Fetches `[claim.cursor, claim.end)` with retries, resuming at the byte where a failed attempt
   * stopped. `res` is an already checked response whose body starts at `bodyStart`.
   */
  async fetchClaim(
    run: Run,
    claim: Claim,
    res: RangeResponse | undefined,
    bodyStart: number,
  ): Promise<void> {
    const retries = this.options.retries ?? 10;
    const signal = run.controller.signal;
    let response = res;
    let start = bodyStart;
    let attempt = 0;
    while (claim.cursor < claim.end) {
      const before = claim.cursor;
      try {
        if (response === undefined) {
          const opened = await this.reopen(run, claim);
          response = opened.res;
          start = opened.start;
        }
        await this.pump(run, claim, response, start);
        response = undefined;
        if (claim.cursor < claim.end && claim.end !== Infinity) {
          throw new NetworkError(
            `Cannot download "${this.url}": the connection closed at byte ${claim.cursor} of ${claim.end}`,
          );
        }
        if (claim.end === Infinity) claim.end = claim.cursor; // a plain stream of unknown length ended
      } catch (error) {
        response?.body.destroy();
        response = undefined;
        if (signal.aborted) throw signal.reason;
        if (claim.restarting) {
          claim.restarting = false; // a slow connection stopped on purpose: reopen at once
          continue;
        }
        if (claim.cursor > before) attempt = 0;
        if (
          error instanceof HttpStatusError &&
          [403, 429, 503].includes(error.status) &&
          run.ranged &&
          run.active.size > 1
        ) {
          // A server that refuses extra connections (403/429/503 on the 2nd..Nth): give the rest
          // of this segment back and carry on with fewer.
          run.active.delete(claim);
          if (claim.cursor < claim.end) {
            run.pool.push({ start: claim.cursor, end: claim.end });
            run.pool.sort((a, b) => a.start - b.start);
          }
          claim.end = claim.cursor;
          this.maxConnections = Math.max(1, this.maxConnections - 1);
          throw new Retire(`Connection refused by the server (${error.status})`, {
            status: error.status,
            url: error.url,
          });
        }
        if (!isRetryable(error)) throw error;
        attempt++;
        if (attempt > retries) {
          if (error instanceof RangedError) {
            error.message = `${error.message} (after ${retries} retries)`;
            throw error;
          }
          throw error;
        }
        const delay = nextDelay(attempt, this.policy, (error as StatusFailure).retryAfterMs);
        this.notice(
          `${(error as Error).message}; retrying in ${formatSeconds(delay)} (${attempt}/${retries})`,
        );
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) throw signal.reason;
      }
    }
  }

  /** A new request for the rest of a claim; in plain mode, the whole file again (skipping). */
  async reopen(run: Run, claim: Claim): Promise<{ res: RangeResponse; start: number }> {
    const signal = run.controller.signal;
    if (run.ranged) {
      const asked: Asked = { start: claim.cursor, end: claim.end, ranged: true };
      const { res, verdict } = await this.openChecked(asked, run.version, signal, false);
      if (verdict.kind === 'partial') return { res, start: verdict.start };
      res.body.destroy();
      if (verdict.kind === 'full' && verdict.sameVersion) {
        throw new ProtocolError(
          `Cannot download "${this.url}": the server stopped honouring Range`,
        );
      }
      throw new RestartNeeded(
        verdict.kind === 'changed' ? verdict.reason : `unexpected ${verdict.kind} response`,
      );
    }
    const asked: Asked = { start: 0, end: undefined, ranged: false };
    const { res, verdict } = await this.openChecked(asked, run.version, signal, false);
    if (
      verdict.kind !== 'full' ||
      (run.journal.size !== undefined && verdict.version.size !== run.journal.size)
    ) {
      res.body.destroy();
      throw new RestartNeeded(
        verdict.kind === 'changed' ? verdict.reason : 'the file size changed',
      );
    }
    if (!verdict.sameVersion && claim.cursor > 0) {
      // No validator proves that this stream is the same version: take every byte from it again.
      claim.cursor = 0;
      run.done = [];
    }
    return { res, start: 0 };
  }

  /**
   * Streams a body into the part file at its offsets, up to the claim's (moving) end. The body is
   * read into one reused buffer and the socket waits while a chunk is written (backpressure), so
   * memory stays flat whatever the file size.
   */
  async pump(run: Run, claim: Claim, res: RangeResponse, bodyStart: number): Promise<void> {
    const signal = run.controller.signal;
    const saveBytes = this.options.saveBytes ?? MiB;
    const position = bodyStart;
    const write = async (data: Buffer, at: number): Promise<boolean> => {
      if (this.throttle !== undefined) await this.throttle.take(data.length, signal);
      if (signal.aborted) return false;
      await writeAt(run.fh, data, at, this.paths.part);
      this.fetchedBytes += data.length;
      claim.cursor = Math.max(claim.cursor, at + data.length);
      run.done = addSpan(run.done, { start: at, end: at + data.length });
      run.unsaved += data.length;
      if (run.unsaved >= saveBytes * Math.max(1, run.active.size)) this.save(run);
      this.overtake(claim);
      return claim.cursor < claim.end;
    };
    claim.stop = () => res.body.destroy();
    try {
      await this.readInto(claim, res, position, write);
    } finally {
      claim.stop = undefined;
    }
  }

  readInto(
    claim: Claim,
    res: RangeResponse,
    bodyStart: number,
    write: (data: Buffer, at: number) => Promise<boolean>,
  ): Promise<void> {
    let position = bodyStart;
    return res.body.read(
      (chunk) => {
        let data = chunk;
        let at = position;
        position += chunk.length;
        claim.received += chunk.length;
        if (at < claim.cursor) {
          const skip = Math.min(data.length, claim.cursor - at);
          data = data.subarray(skip);
          at += skip;
          this.fetchedBytes += skip;
        }
        if (data.length === 0) return true;
        if (at >= claim.end) return false;
        if (at + data.length > claim.end) data = data.subarray(0, claim.end - at);
        claim.reserved = at + data.length;
        return write(data, at);
      },
      { stallTimeout: this.options.stallTimeout ?? 30_000 },
    );
  }
}

/** A claim's speed once it has been sampled for a second or more; undefined before. */
function speedOf(claim: Claim): number | undefined {
  const first = claim.samples[0];
  const last = claim.samples.at(-1);
  if (first === undefined || last === undefined || last.time - first.time < 1_000) return undefined;
  return rate(claim.samples);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Network failures, stalls, 408, 429 and passing 5xx are worth another attempt. */
function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof HttpStatusError) return isRetryableStatus(error.status);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

async function writeAt(
  fh: FileHandle,
  data: Buffer,
  position: number,
  path: string,
): Promise<void> {
  let offset = 0;
  try {
    while (offset < data.length) {
      const { bytesWritten } = await fh.write(
        data,
        offset,
        data.length - offset,
        position + offset,
      );
      offset += bytesWritten;
    }
  } catch (error) {
    throw fsError('write', path, error);
  }
}
