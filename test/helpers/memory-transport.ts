/**
 * An origin in memory, behind the engine's `Transport` seam: it answers range requests for a
 * buffer the way a conforming server does (206 with Content-Range, a strong ETag, If-Range), with
 * no socket. Each request can be scripted: answer with a status, or hold the body at a byte until
 * the test releases it (so a test waits for a condition, never for a time). It records how much
 * of each body it delivered.
 */
import type { Transport } from '../../src/client/engine/transfer.js';
import type {
  RangeRequestOptions,
  RangeResponse,
} from '../../src/client/transport/range-request.js';
import { NetworkError } from '../../src/errors.js';

export interface SeenRequest {
  /** 1 for the first request. */
  n: number;
  url: string;
  /** The Range asked for, `[start, end)`; undefined without Range. */
  range: { start: number; end: number | undefined } | undefined;
  ifRange: string | undefined;
  /** Body bytes handed to the engine so far. */
  sent: number;
  /** Whether the whole body was handed over. */
  finished: boolean;
  /** Whether the response is over: its body read to the end, failed or destroyed. */
  ended: boolean;
}

/** What to do with one request; undefined: answer it normally. */
export type Script =
  | { status: number; headers?: Record<string, string> }
  | {
      /** Deliver the body up to this file offset, then wait for `release`. */
      holdAt: number;
      release: Promise<void>;
    }
  | {
      /** Deliver the body up to this file offset, then fail as a reset connection does. */
      resetAt: number;
    }
  | {
      /** Asked before each chunk with the chunk's file offset: a promise holds the chunk back
       * until it settles (or the body is destroyed); undefined delivers it at once. */
      gate: (at: number) => Promise<void> | undefined;
    }
  | undefined;

export interface MemoryOrigin {
  transport: Transport;
  requests: SeenRequest[];
  /** Resolves once a request matching `predicate` arrives (bounded by the test's timeout). */
  waitForRequest(predicate: (r: SeenRequest) => boolean): Promise<SeenRequest>;
}

export function memoryOrigin(
  data: Buffer,
  options: { etag?: string; chunk?: number; script?: (r: SeenRequest) => Script } = {},
): MemoryOrigin {
  const etag = options.etag ?? '"v1"';
  const chunk = options.chunk ?? 16 * 1024;
  const requests: SeenRequest[] = [];
  const waiters: { predicate: (r: SeenRequest) => boolean; resolve: (r: SeenRequest) => void }[] =
    [];
  const transport: Transport = async (url: string, o: RangeRequestOptions) => {
    if (o.signal.aborted) throw o.signal.reason;
    const seen: SeenRequest = {
      n: requests.length + 1,
      url,
      range: o.range ?? undefined,
      ifRange: o.ifRange,
      sent: 0,
      finished: false,
      ended: false,
    };
    requests.push(seen);
    for (const w of [...waiters]) {
      if (w.predicate(seen)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(seen);
      }
    }
    const script = options.script?.(seen);
    if (script !== undefined && 'status' in script) {
      return response(url, script.status, script.headers ?? {}, Buffer.alloc(0), o.signal, seen);
    }
    const headers: Record<string, string> = { etag, 'accept-ranges': 'bytes' };
    const range = seen.range;
    const useRange = range !== undefined && (seen.ifRange === undefined || seen.ifRange === etag);
    if (!useRange) {
      headers['content-length'] = String(data.length);
      return response(url, 200, headers, data, o.signal, seen, 0, chunk, script);
    }
    const start = range.start;
    const end = Math.min(range.end ?? data.length, data.length);
    headers['content-range'] = `bytes ${start}-${end - 1}/${data.length}`;
    headers['content-length'] = String(end - start);
    return response(
      url,
      206,
      headers,
      data.subarray(start, end),
      o.signal,
      seen,
      start,
      chunk,
      script,
    );
  };
  return {
    transport,
    requests,
    waitForRequest(predicate) {
      const found = requests.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

function response(
  url: string,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  signal: AbortSignal,
  seen: SeenRequest,
  offset = 0,
  chunk = 16 * 1024,
  script?: Script,
): RangeResponse {
  /** Set by destroy(): an error rejects read(), none resolves it (as http1.ts does). */
  let destroyed: { error: Error | undefined } | undefined;
  let wake: (() => void) | undefined;
  let complete = false;
  return {
    url,
    status,
    statusMessage: status === 200 || status === 206 ? 'OK' : 'Error',
    headers,
    body: {
      async read(sink) {
        try {
          let hold = script !== undefined && 'holdAt' in script ? script : undefined;
          const resetAt = script !== undefined && 'resetAt' in script ? script.resetAt : Infinity;
          const gate = script !== undefined && 'gate' in script ? script.gate : undefined;
          /** Waits for `until`, a destroy() or an abort. */
          const held = (until: Promise<void>): Promise<void> =>
            new Promise<void>((resolve) => {
              wake = resolve;
              signal.addEventListener('abort', () => resolve(), { once: true });
              void until.then(resolve);
            }).then(() => {
              wake = undefined;
            });
          for (let at = 0; at < body.length; ) {
            if (offset + at >= resetAt) {
              throw new NetworkError(`Cannot download "${url}": connection reset`);
            }
            if (hold !== undefined && offset + at >= hold.holdAt) {
              // Held: wait for the release, a destroy() or an abort.
              const release = hold.release;
              hold = undefined;
              await held(release);
            }
            const gated = destroyed === undefined ? gate?.(offset + at) : undefined;
            if (gated !== undefined) await held(gated);
            if (signal.aborted) throw signal.reason;
            if (destroyed !== undefined) {
              if (destroyed.error !== undefined) throw destroyed.error;
              return;
            }
            let n = Math.min(chunk, body.length - at);
            if (hold !== undefined) n = Math.min(n, hold.holdAt - offset - at);
            n = Math.min(n, Math.max(1, resetAt - offset - at));
            seen.sent += n;
            // A copy: the engine may keep nothing of a chunk after the sink returns.
            const more = await sink(Buffer.from(body.subarray(at, at + n)));
            at += n;
            if (at === body.length) seen.finished = true;
            if (!more) return;
          }
          complete = true;
        } finally {
          seen.ended = true;
        }
      },
      destroy(error) {
        destroyed ??= { error };
        seen.ended = true;
        wake?.();
      },
      get complete() {
        return complete;
      },
    },
  };
}
