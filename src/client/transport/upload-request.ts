/**
 * One request of an upload over node:http or node:https, on a keep-alive Agent that holds one
 * connection (one per parallel upload). The body, when there is one, is written by the engine
 * (a slice of the file, throttled, through two reused buffers); nothing is buffered here.
 * Interim responses (the draft's 104) are ignored. The answer's body is read and dropped (a
 * refusal's first text line kept as its reason); the status and the fields are the result. A
 * socket failure or a stall rejects with a NetworkError.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  STATUS_CODES,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Writable } from 'node:stream';
import { NetworkError, RangedError } from '../../errors.js';
import { networkReason } from './network-error.js';

export interface UploadAnswer {
  status: number;
  /** Lowercase names; repeated fields joined with ", ". */
  headers: Record<string, string | undefined>;
  /** A refusal's (4xx, 5xx) own words: the first line of a `text/plain` body, at most 200
   * characters, unless it only repeats the status's phrase ("Not Found"). */
  reason?: string;
}

/** Bytes of a refusal's text body kept to find its first line; the rest is read and dropped. */
const REASON_BYTES = 1024;
const REASON_CHARS = 200;

/** The first line of `text`, without control characters, cut at REASON_CHARS; '' for none. */
function firstLine(text: string, status: number): string {
  const line = (text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim();
  if (line.toLowerCase() === (STATUS_CODES[status] ?? '').toLowerCase()) return '';
  return line.length > REASON_CHARS ? `${line.slice(0, REASON_CHARS)}…` : line;
}

export interface UploadRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Writes the body (its length is in `headers['Content-Length']`) into the request and
   * resolves once every byte was handed to the socket; the request is then ended. */
  body?: (out: Writable) => Promise<void>;
  agent: HttpAgent;
  signal: AbortSignal;
  /** No byte accepted and no answer for this many ms fails the request. */
  stallTimeout: number;
}

/** A keep-alive agent holding at most one connection, for `url`'s scheme. */
export function uploadAgent(url: string): HttpAgent {
  const options = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
  return new URL(url).protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
}

function flatten(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers))
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** Sends one request and resolves with its final answer once the answer's body has ended. */
export function sendUploadRequest(r: UploadRequest): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const https = new URL(r.url).protocol === 'https:';
    const fail = (error: unknown): void => {
      if (r.signal.aborted) reject(r.signal.reason);
      else if (error instanceof RangedError) reject(error);
      else
        reject(
          new NetworkError(`Cannot ${r.method} "${r.url}": ${networkReason(error)}`, {
            cause: error,
          }),
        );
    };
    const req = (https ? httpsRequest : httpRequest)(r.url, {
      method: r.method,
      headers: r.headers,
      agent: r.agent,
      signal: r.signal,
    });
    req.on('error', fail);
    req.setTimeout(r.stallTimeout, () => {
      req.destroy(
        new NetworkError(`Cannot ${r.method} "${r.url}": no progress for ${r.stallTimeout} ms`),
      );
    });
    req.on('response', (res) => {
      const answer: UploadAnswer = { status: res.statusCode ?? 0, headers: flatten(res.headers) };
      // text/plain only: a proxy's HTML error page would give "<html>" as the reason.
      const keep =
        answer.status >= 400 && /^text\/plain\b/i.test(answer.headers['content-type'] ?? '');
      const kept: Buffer[] = [];
      let keptBytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (!keep || keptBytes >= REASON_BYTES) return;
        kept.push(chunk.subarray(0, REASON_BYTES - keptBytes));
        keptBytes += Math.min(chunk.length, REASON_BYTES - keptBytes);
      });
      res.on('error', fail);
      res.on('end', () => {
        // An early answer (a refusal before the body was sent): this connection cannot be reused.
        if (!req.writableFinished) req.destroy();
        const reason = firstLine(Buffer.concat(kept).toString('utf8'), answer.status);
        resolve(reason === '' ? answer : { ...answer, reason });
      });
    });
    if (r.body === undefined) {
      req.end();
      return;
    }
    r.body(req).then(
      () => req.end(),
      (error: unknown) => req.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
