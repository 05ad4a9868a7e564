/**
 * `download(url, options)`: a resumable, segmented, verified HTTP download.
 *
 * The data lives in `OUT.part`, its journal in `OUT.part.json`; `OUT` appears only when every byte
 * is held (and the checksum matches), by an atomic rename. The decisions are made by core/:
 * `segments.ts` (who fetches which bytes), `journal.ts` (what is saved), `resume.ts` and
 * `probe.ts` (whether a response or a journal can be trusted, and what to do with it),
 * `backoff.ts` (retries) and `progress.ts` (rate, ETA). The client modules only move bytes:
 *
 * - `download.ts` (this file): the public types, and the outer loop: pause, resume, abort, restart
 *   after a remote change, progress reports.
 * - `attempt.ts`: one pass of the resume path (load, probe, fetch, settle, finish).
 * - `fetch-ranged.ts` / `fetch-plain.ts`: the workers over segments, or one plain stream.
 * - `fetch-claim.ts`: one connection's bytes into the part file, with retries.
 * - `checked-request.ts`: one request whose response core `checkResponse()` has judged.
 * - `journal-saver.ts`, `finish.ts`, `part-file.ts`: the commit order of house rule 8.
 *
 * Pause, abort and a crash are one case: the transfer stops with the journal saved, and going on
 * means running the resume path again (load the journal, probe with If-Range, plan, fetch).
 */
import { setMaxListeners } from 'node:events';
import type https from 'node:https';
import type { RetryPolicy } from '../core/backoff.js';
import { addSample, eta, rate, type Sample } from '../core/progress.js';
import { spanBytes } from '../core/segments.js';
import { RemoteChangedError } from '../errors.js';
import { attempt } from './engine/attempt.js';
import { type DownloadOptions, resolveSettings, type Settings } from './engine/settings.js';
import { PauseStop, RestartNeeded, stoppedError } from './engine/stops.js';
import { createThrottle, type Throttle } from './engine/throttle.js';
import type { Run, Transfer } from './engine/transfer.js';
import { bootId } from './store/boot-id.js';
import type { Checksum } from './store/checksum.js';
import { discardPart, type PartPaths, partPaths } from './store/part-file.js';
import { PrefixDigest } from './store/prefix-digest.js';

export type { DownloadOptions } from './engine/settings.js';
export { partPaths } from './store/part-file.js';

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

/** The outer loop of one `download()` call; the shared state of its passes (`Transfer`). */
class Engine implements Transfer {
  readonly url: string;
  readonly options: DownloadOptions;
  /** Filled in by `start()` (a bad option rejects `done`, it does not throw). */
  settings!: Settings;
  readonly paths: PartPaths;
  readonly policy: RetryPolicy;
  readonly now: () => number;
  readonly throttle: Throttle | undefined;
  readonly agents: { https?: https.Agent } = {};
  readonly boot = bootId();
  isPaused = false;
  /** Stops the current pass (pause, abort, a fatal error). */
  controller: AbortController | undefined;
  resumeWaiter: (() => void) | undefined;
  run: Run | undefined;
  maxConnections = 1;
  fetchedBytes = 0;
  resumedBytes: number | undefined;
  restarts = 0;
  races = 0;
  digest: PrefixDigest | undefined;
  state: DownloadState = 'connecting';
  samples: Sample[] = [];

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

  notice(message: string): void {
    this.options.onNotice?.(message);
  }

  pause(): void {
    if (this.isPaused) return;
    this.isPaused = true;
    // The state becomes 'paused' once the pass has stopped with the journal saved (`start()`).
    this.controller?.abort(new PauseStop('Paused'));
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.resumeWaiter?.();
  }

  async start(): Promise<DownloadResult> {
    const timer = setInterval(() => this.emit(), this.options.progressInterval ?? 250);
    try {
      this.settings = resolveSettings(this.url, this.options);
      const checksum = this.settings.checksum;
      if (checksum !== undefined) this.digest = new PrefixDigest(checksum.algorithm);
      for (;;) {
        if (this.options.signal?.aborted) throw this.aborted();
        if (this.isPaused) {
          // The pass has stopped: connections closed, journal saved, part file closed.
          this.emit('paused');
          await this.waitForResume();
          continue;
        }
        try {
          const result = await this.pass();
          this.emit('done');
          return result;
        } catch (error) {
          if (error instanceof PauseStop) continue;
          if (error instanceof RestartNeeded) {
            this.restarts++;
            if (this.restarts > this.settings.maxRestarts) {
              throw new RemoteChangedError(
                `Cannot download "${this.url}": the remote file kept changing (${this.restarts} restarts); last: ${error.message}`,
              );
            }
            this.notice(`Remote file changed (${error.message}): starting over`);
            await discardPart(this.paths);
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

  /** One pass, linked to the caller's signal. */
  async pass(): Promise<DownloadResult> {
    const controller = new AbortController();
    // Every connection (up to 64) and the engine listen on it: more than Node's default of 10.
    setMaxListeners(200, controller.signal);
    this.controller = controller;
    if (this.isPaused) controller.abort(new PauseStop('Paused'));
    const onAbort = (): void => controller.abort(this.aborted());
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { size, url } = await attempt(this, {
        controller,
        onResumable: (bytes) => {
          this.resumedBytes ??= bytes;
        },
      });
      this.state = 'done';
      const result: DownloadResult = {
        path: this.settings.output,
        size,
        url,
        resumedBytes: this.resumedBytes ?? 0,
        fetchedBytes: this.fetchedBytes,
        restarts: this.restarts,
      };
      if (this.settings.checksum !== undefined) result.checksum = this.settings.checksum;
      return result;
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  aborted(): Error {
    return stoppedError(this.options.output, this.paths.journal);
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
      state: this.state,
      bytes,
      total,
      bytesPerSecond: bps,
      etaSeconds: total === undefined ? undefined : eta(total - bytes, bps),
      connections: this.state === 'downloading' && run !== undefined ? run.active.size : 0,
    });
  }
}
