/**
 * The requests of an upload that are not PATCHes: discovery (OPTIONS), creation (one upload, or
 * N tus partial uploads), the final concatenation and the termination (DELETE) of a stale
 * upload. Each retries through the shared Retries; the run (upload-run.ts) decides when.
 */
import type { Agent } from 'node:http';
import { basename } from 'node:path';
import {
  creationAction,
  type Discovery,
  discoverProtocol,
  type FileFacts,
  planParts,
  type UploadPart,
} from '../../core/upload/client-plan.js';
import { HttpStatusError } from '../../errors.js';
import type { SavedPart, UploadStateRecord } from '../store/upload-state.js';
import { networkCode } from '../transport/network-error.js';
import { sendUploadRequest, uploadAgent } from '../transport/upload-request.js';
import type { UploadOptions } from '../types.js';
import { MIN_UPLOAD_PART } from './defaults.js';
import type { Retries } from './retry.js';
import { StatusFailure } from './stops.js';
import { fatalError, protocolHeaders } from './upload-part.js';
import type { Settings } from './upload-settings.js';

export class UploadServer {
  readonly #url: string;
  readonly #o: UploadOptions;
  readonly #s: Settings;
  readonly #retries: () => Retries;
  readonly #notice: (message: string, once?: boolean) => void;
  /** Whether the server answered anything yet (in this run). */
  #answered = false;

  constructor(
    url: string,
    options: UploadOptions,
    settings: Settings,
    retries: () => Retries,
    notice: (message: string, once?: boolean) => void,
  ) {
    this.#url = url;
    this.#o = options;
    this.#s = settings;
    this.#retries = retries;
    this.#notice = notice;
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
          const answer = await sendUploadRequest({
            method,
            url,
            headers: { ...this.#s.headers, ...headers },
            agent: own,
            signal,
            stallTimeout: this.#s.stallTimeout,
          });
          this.#answered = true;
          return answer;
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          // Nothing listens there, or the name does not resolve, before any answer: no point
          // waiting, as `get` does (a server restarting mid-run has answered before).
          const code = networkCode(error);
          if (!this.#answered && (code === 'ECONNREFUSED' || code === 'ENOTFOUND')) throw error;
          await retries.after(error, signal);
        }
      }
    } finally {
      if (agent === undefined) own.destroy();
    }
  }

  async discover(retries: Retries, signal: AbortSignal): Promise<Discovery> {
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
  async create(
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
    return this.#post(headers, 'create an upload', retries, signal);
  }

  /**
   * A creation POST (a new upload, or tus concatenation's final): the new upload's URL, retried as
   * creationAction() says; a refusal is an HttpStatusError saying what could not be done (`what`).
   */
  async #post(
    headers: Record<string, string>,
    what: string,
    retries: Retries,
    signal: AbortSignal,
  ): Promise<string> {
    for (;;) {
      const answer = await this.#ask('POST', this.#url, headers, retries, signal);
      const action = creationAction(answer);
      if (action.kind === 'created') return new URL(action.location, this.#url).href;
      const message = `Cannot ${what} at "${this.#url}": ${action.why}`;
      if (action.kind === 'fatal') throw fatalError(message, action, answer, this.#url);
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

  async concatenate(state: UploadStateRecord, signal: AbortSignal): Promise<string> {
    const urls = state.parts.map((p) => new URL(p.url).pathname).join(' ');
    const headers = {
      ...protocolHeaders('tus'),
      'Upload-Concat': `final;${urls}`,
      'Upload-Metadata': this.#metadata(state.file),
      'Content-Length': '0',
    };
    return this.#post(headers, 'concatenate the uploads', this.#retries(), signal);
  }

  /** DELETE every upload of a stale state, so the target path is free (failures are ignored). */
  async terminate(state: UploadStateRecord, signal: AbortSignal): Promise<void> {
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
