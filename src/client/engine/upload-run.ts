/**
 * The run of one `upload()`: discovery (OPTIONS), the saved state (resume when it still belongs to
 * the file; else terminate the stale upload and say so), creation (one upload, or N tus partial
 * uploads with concatenation), the parts brought to their length in parallel (upload-part.ts),
 * the final concatenation, and the state removed once the server confirmed everything.
 *
 * Pause, Ctrl-C and kill -9 are one path: the requests stop, the state on disk already names the
 * uploads, and resuming asks the server for each offset (HEAD) again.
 */
import { realpath, stat } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chooseChecksum,
  creationAction,
  type Discovery,
  discoverProtocol,
  type FileFacts,
  fileVerdict,
  planParts,
  type UploadPart,
} from '../../core/upload/client-plan.js';
import { AbortedError, HttpStatusError, UsageError } from '../../errors.js';
import {
  defaultStateDir,
  loadUploadState,
  removeUploadState,
  type SavedPart,
  sampledDigest,
  saveUploadState,
  statePath,
  type UploadStateRecord,
} from '../store/upload-state.js';
import { sendUploadRequest, uploadAgent } from '../transport/upload-request.js';
import type { UploadOptions, UploadResult } from '../types.js';
import {
  DEFAULTS,
  MIN_UPLOAD_PART,
  SAMPLE_BLOCK_SIZE,
  SAMPLE_BLOCKS,
  UPLOAD_DEFAULTS,
} from './defaults.js';
import { Retries } from './retry.js';
import { PauseStop, StatusFailure } from './stops.js';
import { createThrottle, type Throttle } from './throttle.js';
import { UploadMeter } from './upload-meter.js';
import { completePart, type PartMeter, protocolHeaders, UploadGone } from './upload-part.js';

/** Restarts (the server forgot the upload) allowed in one call. */
const MAX_RESTARTS = 3;

interface Settings {
  chunkSize: number;
  connections: number;
  retries: number;
  stallTimeout: number;
  headers: Record<string, string>;
  stateDir: string;
}

export class UploadRun {
  readonly #file: string;
  readonly #url: string;
  readonly #o: UploadOptions;
  readonly #s: Settings;
  readonly #throttle: Throttle | undefined;
  readonly #meter: UploadMeter;
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
    this.#meter.state('connecting');
    const file = await realFile(this.#file);
    const facts = await fileFacts(file);
    const path = statePath(this.#s.stateDir, file, this.#url);
    const retries = this.#retries();
    const discovery = await this.#discover(retries, signal);
    let state = await loadUploadState(path);
    if (state !== undefined) {
      const verdict = fileVerdict(state.facts, facts);
      if (verdict.kind === 'changed') {
        this.#notice(
          `"${this.#file}" changed since the last run (${verdict.why}): terminating the old upload and starting a new one`,
        );
        await this.#terminate(state, signal);
        await removeUploadState(path);
        state = undefined;
      }
    }
    this.#meter.total = facts.size;
    for (;;) {
      const fresh = state === undefined;
      if (state === undefined) {
        state = await this.#create(file, facts, discovery, retries, signal);
        await saveUploadState(path, state);
      }
      try {
        const url = await this.#send(state, discovery, fresh, signal);
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
        await this.#terminate(state, signal);
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

  /** One request with retries (OPTIONS, a creation): the answer, or the last error. */
  async #ask(
    method: string,
    url: string,
    headers: Record<string, string>,
    retries: Retries,
    signal: AbortSignal,
    agent?: Agent,
  ) {
    const own = agent ?? uploadAgent(url);
    try {
      for (;;) {
        try {
          return await sendUploadRequest({
            method,
            url,
            headers: { ...this.#s.headers, ...headers },
            agent: own,
            signal,
            stallTimeout: this.#s.stallTimeout,
          });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          await retries.after(error, signal);
        }
      }
    } finally {
      if (agent === undefined) own.destroy();
    }
  }

  async #discover(retries: Retries, signal: AbortSignal): Promise<Discovery> {
    if (this.#o.protocol === 'ietf') return { protocol: 'ietf' };
    const answer = await this.#ask(
      'OPTIONS',
      this.#url,
      { 'Tus-Resumable': '1.0.0' },
      retries,
      signal,
    );
    if (answer.status >= 500 && answer.status !== 501) {
      throw new HttpStatusError(
        `Cannot upload to "${this.#url}": OPTIONS answered ${answer.status}`,
        {
          status: answer.status,
          url: this.#url,
        },
      );
    }
    return discoverProtocol(answer, this.#o.protocol);
  }

  /** Creates the upload(s) for the file; the state to save at once. */
  async #create(
    file: string,
    facts: FileFacts,
    discovery: Discovery,
    retries: Retries,
    signal: AbortSignal,
  ): Promise<UploadStateRecord> {
    const wanted = this.#s.connections;
    const concat =
      discovery.protocol === 'tus' && wanted > 1 && discovery.extensions.includes('concatenation');
    if (wanted > 1 && !concat) {
      const why =
        discovery.protocol === 'tus'
          ? 'the server does not support tus concatenation'
          : 'the IETF draft has no parallel uploads';
      this.#notice(`Uploading over one connection: ${why}`, true);
    }
    const parts = concat
      ? planParts(facts.size, wanted, MIN_UPLOAD_PART)
      : [{ start: 0, length: facts.size }];
    const multi = concat && parts.length > 1;
    const saved: SavedPart[] = [];
    for (const part of parts) {
      const url = await this.#createOne(file, part, discovery, multi, retries, signal);
      saved.push({ ...part, url });
    }
    return {
      format: 'ranged-upload',
      version: 1,
      file,
      url: this.#url,
      protocol: discovery.protocol,
      concat: multi,
      facts,
      parts: saved,
    };
  }

  async #createOne(
    file: string,
    part: UploadPart,
    discovery: Discovery,
    partial: boolean,
    retries: Retries,
    signal: AbortSignal,
  ): Promise<string> {
    const headers: Record<string, string> = {
      ...protocolHeaders(discovery.protocol),
      'Upload-Length': String(part.length),
      'Content-Length': '0',
    };
    if (discovery.protocol === 'tus') {
      if (partial) headers['Upload-Concat'] = 'partial';
      else headers['Upload-Metadata'] = this.#metadata(file);
    } else {
      headers['Upload-Complete'] = '?0';
    }
    for (;;) {
      const answer = await this.#ask('POST', this.#url, headers, retries, signal);
      const action = creationAction(answer);
      if (action.kind === 'created') return new URL(action.location, this.#url).href;
      const message = `Cannot create an upload at "${this.#url}": ${action.why}`;
      if (action.kind !== 'retry')
        throw new HttpStatusError(message, { status: answer.status, url: this.#url });
      await retries.after(
        new StatusFailure(message, { status: answer.status, url: this.#url }, undefined),
        signal,
      );
    }
  }

  #metadata(file: string): string {
    const name = this.#o.name ?? basename(file);
    return `filename ${Buffer.from(name, 'utf8').toString('base64')}`;
  }

  /** Brings every part to its length, then concatenates; the URL of the whole upload. */
  async #send(
    state: UploadStateRecord,
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
    const agents: Agent[] = [];
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
              chunkSize: this.#s.chunkSize,
              checksum,
              headers: this.#s.headers,
              stallTimeout: this.#s.stallTimeout,
              throttle: this.#throttle,
              signal,
              agent,
              retries: this.#retries(),
            },
            meters[i] as PartMeter,
          );
        }),
      );
    } catch (error) {
      // One part failed: stop the others (the state stays; a rerun continues every part).
      if (!signal.aborted) this.#pass.abort(error);
      throw error;
    } finally {
      for (const agent of agents) agent.destroy();
    }
    if (!state.concat) return (state.parts[0] as SavedPart).url;
    return this.#concatenate(state, signal);
  }

  async #concatenate(state: UploadStateRecord, signal: AbortSignal): Promise<string> {
    const urls = state.parts.map((p) => new URL(p.url).pathname).join(' ');
    const headers = {
      ...protocolHeaders('tus'),
      'Upload-Concat': `final;${urls}`,
      'Upload-Metadata': this.#metadata(state.file),
      'Content-Length': '0',
    };
    const retries = this.#retries();
    for (;;) {
      const answer = await this.#ask('POST', this.#url, headers, retries, signal);
      const action = creationAction(answer);
      if (action.kind === 'created') return new URL(action.location, this.#url).href;
      const message = `Cannot concatenate the uploads at "${this.#url}": ${action.why}`;
      if (action.kind !== 'retry')
        throw new HttpStatusError(message, { status: answer.status, url: this.#url });
      await retries.after(
        new StatusFailure(message, { status: answer.status, url: this.#url }, undefined),
        signal,
      );
    }
  }

  /** DELETE every upload of a stale state, so the target path is free (failures are ignored). */
  async #terminate(state: UploadStateRecord, signal: AbortSignal): Promise<void> {
    for (const part of state.parts) {
      const agent = uploadAgent(part.url);
      try {
        await sendUploadRequest({
          method: 'DELETE',
          url: part.url,
          headers: { ...this.#s.headers, ...protocolHeaders(state.protocol) },
          agent,
          signal,
          stallTimeout: this.#s.stallTimeout,
        });
      } catch {
        if (signal.aborted) throw signal.reason;
      } finally {
        agent.destroy();
      }
    }
  }
}

function settings(o: UploadOptions): Settings {
  const count = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
  ): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min)
      throw new UsageError(
        `Cannot upload: ${name} must be an integer of at least ${min}, got ${v}`,
      );
    return v;
  };
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  return {
    chunkSize: count('chunkSize', o.chunkSize, UPLOAD_DEFAULTS.chunkSize, 1),
    connections: count('connections', o.connections, UPLOAD_DEFAULTS.connections, 1),
    retries: count('retries', o.retries, DEFAULTS.retries, 0),
    stallTimeout: count('stallTimeout', o.stallTimeout, DEFAULTS.stallTimeout, 1),
    headers,
    stateDir: o.stateDir ?? defaultStateDir(process.env),
  };
}

async function realFile(file: string): Promise<string> {
  try {
    const real = await realpath(file);
    if (!(await stat(real)).isFile())
      throw new UsageError(`Cannot upload "${file}": not a regular file`);
    return real;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new UsageError(`Cannot upload "${file}": ${why}`);
  }
}

async function fileFacts(file: string): Promise<FileFacts> {
  const s = await stat(file);
  const digest = await sampledDigest(file, s.size, SAMPLE_BLOCKS, SAMPLE_BLOCK_SIZE);
  return { size: s.size, mtimeMs: s.mtimeMs, digest };
}
