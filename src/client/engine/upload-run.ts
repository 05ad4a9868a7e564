/**
 * The run of one `upload()`: discovery (OPTIONS), the saved state (resume when it still belongs to
 * the file; else terminate the stale upload and say so), creation (one upload, or N tus partial
 * uploads with concatenation), the parts brought to their length in parallel (upload-part.ts),
 * the final concatenation, and the state removed once the server confirmed everything.
 *
 * Pause, Ctrl-C and kill -9 are one path: the requests stop, the state on disk already names the
 * uploads, and resuming asks the server for each offset (HEAD) again.
 */
import { stat } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_CHUNK_SIZING, fixedChunkSizing } from '../../core/upload/chunk-size.js';
import {
  chooseChecksum,
  type Discovery,
  fileVerdict,
  type StatFacts,
} from '../../core/upload/client-plan.js';
import { AbortedError, HttpStatusError } from '../../errors.js';
import {
  loadUploadState,
  removeUploadState,
  type SavedPart,
  saveUploadState,
  statePath,
  type UploadStateRecord,
} from '../store/upload-state.js';
import { uploadAgent } from '../transport/upload-request.js';
import type { UploadOptions, UploadResult } from '../types.js';
import { DEFAULTS } from './defaults.js';
import { Retries } from './retry.js';
import { PauseStop } from './stops.js';
import { createThrottle, type Throttle } from './throttle.js';
import { UploadMeter } from './upload-meter.js';
import { completePart, type PartMeter, UploadGone } from './upload-part.js';
import { UploadServer } from './upload-server.js';
import { fileFacts, realFile, type Settings, settings } from './upload-settings.js';

/** Restarts (the server forgot the upload) allowed in one call. */
const MAX_RESTARTS = 3;

export class UploadRun {
  readonly #file: string;
  readonly #url: string;
  readonly #o: UploadOptions;
  readonly #s: Settings;
  readonly #throttle: Throttle | undefined;
  readonly #meter: UploadMeter;
  readonly #server: UploadServer;
  #pass = new AbortController();
  #paused = false;
  #wake: (() => void) | undefined;
  #restarts = 0;
  #noticed = new Set<string>();

  constructor(file: string, url: string, options: UploadOptions) {
    this.#file = file;
    this.#url = url;
    this.#o = options;
    const now = options.now ?? (() => performance.now());
    this.#s = settings(options);
    this.#throttle =
      options.limitRate === undefined ? undefined : createThrottle(options.limitRate, now);
    this.#meter = new UploadMeter(now, options.onProgress);
    this.#server = new UploadServer(
      url,
      options,
      this.#s,
      () => this.#retries(),
      (message, once) => this.#notice(message, once),
    );
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#pass.abort(new PauseStop('paused'));
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#wake?.();
  }

  #notice(message: string, once = false): void {
    if (once) {
      if (this.#noticed.has(message)) return;
      this.#noticed.add(message);
    }
    this.#o.onNotice?.(message);
  }

  async start(): Promise<UploadResult> {
    const signal = this.#o.signal;
    const onAbort = (): void => this.#pass.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal?.aborted) throw this.#stopped();
        try {
          return await this.#run();
        } catch (error) {
          if (signal?.aborted) throw this.#stopped();
          if (!(error instanceof PauseStop)) throw error;
          this.#meter.state('paused');
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            if (!this.#paused) resolve();
            signal?.addEventListener('abort', () => resolve(), { once: true });
          });
          this.#pass = new AbortController();
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#meter.stop();
    }
  }

  #stopped(): AbortedError {
    return new AbortedError(
      `Cannot finish uploading "${this.#file}": stopped; the upload is saved, run the same command again to resume`,
    );
  }

  /** One pass: everything between two pauses. */
  async #run(): Promise<UploadResult> {
    const signal = this.#pass.signal;
    const file = await realFile(this.#file);
    // One stat: the facts saved with the state, and what the run checks the file against.
    const held = await stat(file);
    const facts = await fileFacts(file, held);
    const kept: StatFacts = {
      size: held.size,
      mtimeMs: held.mtimeMs,
      ino: held.ino,
      ctimeMs: held.ctimeMs,
    };
    // The size first: the first progress line says "0 B / 1.0 GiB connecting", not "0 B / 0 B".
    this.#meter.total = facts.size;
    this.#meter.state('connecting');
    const path = statePath(this.#s.stateDir, file, this.#url);
    const retries = this.#retries();
    const discovery = await this.#server.discover(retries, signal);
    let state = await loadUploadState(path);
    if (state !== undefined) {
      const verdict = fileVerdict(state.facts, facts);
      if (verdict.kind === 'changed') {
        this.#notice(
          `"${this.#file}" changed since the last run (${verdict.why}): terminating the old upload and starting a new one`,
        );
        await this.#server.terminate(state, signal);
        await removeUploadState(path);
        state = undefined;
      }
    }
    for (;;) {
      const fresh = state === undefined;
      if (state === undefined) {
        state = await this.#server.create(file, facts, discovery, retries, signal);
        await saveUploadState(path, state);
      }
      try {
        const url = await this.#send(state, kept, discovery, fresh, signal);
        await removeUploadState(path);
        this.#meter.state('done');
        return {
          file,
          size: facts.size,
          url,
          protocol: state.protocol,
          resumedBytes: this.#meter.resumed,
          sentBytes: this.#meter.sent,
          restarts: this.#restarts,
        };
      } catch (error) {
        if (!(error instanceof UploadGone)) throw error;
        if (++this.#restarts > MAX_RESTARTS)
          throw new HttpStatusError(error.message, { status: 410, url: this.#url });
        this.#notice(`${error.message}: starting the upload over`);
        await this.#server.terminate(state, signal);
        await removeUploadState(path);
        state = undefined;
      }
    }
  }

  #retries(): Retries {
    return new Retries({
      limit: this.#s.retries,
      policy: {
        baseDelay: this.#o.retryDelay ?? DEFAULTS.retryDelay,
        maxDelay: this.#o.maxRetryDelay ?? DEFAULTS.maxRetryDelay,
        random: this.#o.random ?? Math.random,
      },
      notice: (message) => this.#notice(message),
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
    });
  }

  /** Brings every part to its length, then concatenates; the URL of the whole upload. */
  async #send(
    state: UploadStateRecord,
    facts: StatFacts,
    discovery: Discovery,
    fresh: boolean,
    signal: AbortSignal,
  ): Promise<string> {
    const checksum =
      this.#o.chunkChecksum === true && discovery.protocol === 'tus'
        ? chooseChecksum(discovery.checksums)
        : undefined;
    if (
      checksum !== undefined &&
      discovery.protocol === 'tus' &&
      !discovery.extensions.includes('checksum')
    )
      this.#notice(
        'The server does not list the checksum extension: sending Upload-Checksum anyway',
        true,
      );
    if (this.#o.chunkChecksum === true && discovery.protocol === 'ietf')
      this.#notice(
        '--chunk-checksum applies to tus only: the IETF draft has no chunk checksums',
        true,
      );
    if (this.#o.name !== undefined && discovery.protocol === 'ietf')
      this.#notice(
        `--name applies to tus only: the IETF draft stores the file at the URL's own path (${new URL(this.#url).pathname})`,
        true,
      );
    // A size the user chose stays; chunks with a checksum stay at the start size (a 460 discards
    // the whole chunk); otherwise the size follows the rate.
    const sizing = {
      current:
        this.#s.chunkSize !== undefined
          ? fixedChunkSizing(this.#s.chunkSize)
          : checksum !== undefined
            ? fixedChunkSizing(DEFAULT_CHUNK_SIZING.start)
            : DEFAULT_CHUNK_SIZING,
    };
    const agents: Agent[] = [];
    // One failed part stops the others, and only them: the pass goes on (a start-over).
    const stopParts = new AbortController();
    const partSignal = AbortSignal.any([signal, stopParts.signal]);
    const meters: PartMeter[] = state.parts.map(() => ({ confirmed: 0, inflight: 0, sent: 0 }));
    this.#meter.track(meters, fresh);
    this.#meter.state('uploading');
    try {
      await Promise.all(
        state.parts.map((part, i) => {
          const agent = uploadAgent(part.url);
          agents.push(agent);
          return completePart(
            part,
            fresh ? 0 : undefined,
            {
              protocol: state.protocol,
              file: state.file,
              name: this.#file,
              facts,
              sizing,
              checksum,
              headers: this.#s.headers,
              stallTimeout: this.#s.stallTimeout,
              throttle: this.#throttle,
              signal: partSignal,
              agent,
              retries: this.#retries(),
              notice: (message) => this.#notice(message),
            },
            meters[i] as PartMeter,
          );
        }),
      );
    } catch (error) {
      // One part failed: stop the others (the state stays; a rerun continues every part).
      stopParts.abort(error);
      throw error;
    } finally {
      for (const agent of agents) agent.destroy();
    }
    if (!state.concat) return (state.parts[0] as SavedPart).url;
    return this.#server.concatenate(state, signal);
  }
}
