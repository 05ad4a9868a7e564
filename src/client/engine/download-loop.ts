/**
 * `DownloadLoop`: the outer loop of one `download()` call. It runs passes (`attempt()`) until the
 * file is finished: pause, resume, abort, a restart after a remote change, and the progress
 * reports. It owns the state that lives across passes; each pass's state has its own owners
 * (`Run`, `PartStore`, `Scheduler`).
 *
 * Pause, abort and a crash are one case: the transfer stops with the journal saved, and going on
 * means running the resume path again (load the journal, probe with If-Range, plan, fetch).
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootId } from '../../boot-id.js';
import type { RetryPolicy } from '../../core/backoff.js';
import { addSample, eta, rate, type Sample } from '../../core/progress.js';
import { RemoteChangedError } from '../../errors.js';
import { discardPart, type PartPaths, partPaths } from '../store/part-paths.js';
import { PrefixDigest } from '../store/prefix-digest.js';
import type { DownloadOptions, DownloadResult, DownloadState } from '../types.js';
import { attempt } from './attempt.js';
import { DEFAULTS } from './defaults.js';
import type { Run } from './run.js';
import { resolveSettings } from './settings.js';
import { PauseStop, RestartNeeded, stoppedError } from './stops.js';
import { createThrottle, type Throttle } from './throttle.js';
import type { Transfer, Transport } from './transfer.js';

/** What the loop needs from below that tests may replace (a transport without sockets). */
export interface LoopDeps {
  transport: Transport;
  /** @default node:timers/promises setTimeout, with the signal */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** This machine's boot id. @default bootId() */
  boot?: string | undefined;
}

export class DownloadLoop {
  readonly #url: string;
  readonly #options: DownloadOptions;
  readonly #deps: LoopDeps;
  readonly #paths: PartPaths;
  readonly #policy: RetryPolicy;
  readonly #now: () => number;
  readonly #throttle: Throttle | undefined;
  #paused = false;
  /** Stops the current pass (pause, abort, a fatal error). */
  #controller: AbortController | undefined;
  #resumeWaiter: (() => void) | undefined;
  /** The pass progress is reported from. */
  #run: Run | undefined;
  #fetchedBytes = 0;
  #resumedBytes: number | undefined;
  #restarts = 0;
  #state: DownloadState = 'connecting';
  #samples: Sample[] = [];
  /** The size of the finished file, reported by the final 'done' event. */
  #finished: number | undefined;

  constructor(url: string, options: DownloadOptions, deps: LoopDeps) {
    this.#url = url;
    this.#options = options;
    this.#deps = deps;
    this.#paths = partPaths(options.output);
    this.#now = options.now ?? (() => performance.now());
    this.#policy = {
      baseDelay: options.retryDelay ?? DEFAULTS.retryDelay,
      maxDelay: options.maxRetryDelay ?? DEFAULTS.maxRetryDelay,
      random: options.random ?? Math.random,
    };
    this.#throttle =
      options.limitRate === undefined ? undefined : createThrottle(options.limitRate, this.#now);
  }

  /** Whether a pause was asked for and not resumed. */
  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // The state becomes 'paused' once the pass has stopped with the journal saved (`start()`).
    this.#controller?.abort(new PauseStop('Paused'));
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resumeWaiter?.();
  }

  async start(): Promise<DownloadResult> {
    const options = this.#options;
    const timer = setInterval(
      () => this.#emit(),
      options.progressInterval ?? DEFAULTS.progressInterval,
    );
    const agents: Transfer['agents'] = {};
    const fetched = (): number => this.#fetchedBytes;
    try {
      const settings = resolveSettings(this.#url, options);
      const checksum = settings.checksum;
      const t: Transfer = {
        url: this.#url,
        settings,
        paths: this.#paths,
        policy: this.#policy,
        now: this.#now,
        sleep: this.#deps.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal })),
        throttle: this.#throttle,
        transport: this.#deps.transport,
        agents,
        boot: 'boot' in this.#deps ? this.#deps.boot : bootId(),
        digest: checksum === undefined ? undefined : new PrefixDigest(checksum.algorithm),
        get fetchedBytes() {
          return fetched();
        },
        countFetched: (bytes) => {
          this.#fetchedBytes += bytes;
        },
        notice: (message) => options.onNotice?.(message),
        emit: (state) => this.#emit(state),
        show: (run) => {
          this.#run = run;
        },
      };
      for (;;) {
        if (options.signal?.aborted) throw this.#aborted();
        if (this.#paused) {
          // The pass has stopped: connections closed, journal saved, part file closed.
          this.#emit('paused');
          // onProgress may have resumed already.
          if (this.#paused) await this.#waitForResume();
          continue;
        }
        try {
          const result = await this.#pass(t);
          this.#emit('done');
          return result;
        } catch (error) {
          if (error instanceof PauseStop) continue;
          if (error instanceof RestartNeeded) {
            this.#restarts++;
            if (this.#restarts > settings.maxRestarts) {
              throw new RemoteChangedError(
                `Cannot download "${this.#url}": the remote file kept changing (${this.#restarts} restarts); last: ${error.message}`,
              );
            }
            t.notice(`Remote file changed (${error.message}): starting over`);
            await discardPart(this.#paths);
            continue;
          }
          throw error;
        }
      }
    } finally {
      clearInterval(timer);
      agents.https?.destroy();
    }
  }

  /** One pass, linked to the caller's signal. */
  async #pass(t: Transfer): Promise<DownloadResult> {
    const controller = new AbortController();
    // Every connection (up to 64) and the engine listen on it: more than Node's default of 10.
    setMaxListeners(200, controller.signal);
    this.#controller = controller;
    if (this.#paused) controller.abort(new PauseStop('Paused'));
    const signal = this.#options.signal;
    const onAbort = (): void => controller.abort(this.#aborted());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { size, url } = await attempt(t, {
        controller,
        onResumable: (bytes) => {
          this.#resumedBytes ??= bytes;
        },
      });
      this.#state = 'done';
      this.#finished = size;
      const result: DownloadResult = {
        path: t.settings.output,
        size,
        url,
        resumedBytes: this.#resumedBytes ?? 0,
        fetchedBytes: this.#fetchedBytes,
        restarts: this.#restarts,
      };
      if (t.settings.checksum !== undefined) result.checksum = t.settings.checksum;
      return result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #aborted(): Error {
    return stoppedError(this.#options.output, this.#paths.journal);
  }

  async #waitForResume(): Promise<void> {
    const signal = this.#options.signal;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => resolve();
      this.#resumeWaiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.#resumeWaiter = undefined;
  }

  #emit(state?: DownloadState): void {
    if (state !== undefined) this.#state = state;
    const onProgress = this.#options.onProgress;
    const run = this.#run;
    // Once finished, the run is gone: the final event carries the file's size as bytes and total.
    const finished = this.#state === 'done' ? this.#finished : undefined;
    const bytes = finished ?? (run === undefined ? 0 : run.store.heldBytes);
    this.#samples = addSample(this.#samples, { time: this.#now(), bytes: this.#fetchedBytes });
    if (onProgress === undefined) return;
    const total = finished ?? run?.store.size;
    const bps = this.#state === 'downloading' ? rate(this.#samples) : 0;
    onProgress({
      state: this.#state,
      bytes,
      total,
      bytesPerSecond: bps,
      etaSeconds: total === undefined ? undefined : eta(total - bytes, bps),
      connections:
        this.#state === 'downloading' && run !== undefined ? run.scheduler.activeCount : 0,
    });
  }
}
