/**
 * `openHttp1()`: one HTTP/1.1 GET over a plain TCP socket whose bytes are read into two reused
 * buffers (`net.connect({ onread })`), so a download allocates nothing per chunk.
 *
 * Why not node:http: its parser hands out a fresh 64 KiB ArrayBuffer for every socket read. V8
 * frees them only when external memory has grown by 64 MiB since the last full GC, so a 1 GiB
 * download peaked at ~100 MiB RSS, and the stream machinery capped one connection at ~430 MB/s on
 * loopback (curl: ~790). Two buffers take turns: while the caller writes out one chunk, the next
 * is read into the other buffer; a third chunk waits in the socket (it is paused) until the write
 * finishes. Backpressure by construction, with the socket read and the file write overlapping
 * (they run on different threads).
 *
 * The socket side is a small state machine in `http1-exchange.ts` (named phases, one
 * `transition()`) that moves bytes between the socket, the two buffers and the sink. What the
 * bytes mean is decided by pure modules beside it, tested without sockets and against Node's own
 * parser (llhttp, test/integration/get.http1-llhttp.test.ts): `http1-head.ts` reads the status
 * line, the fields and the framing (RFC 9112 §4-§6.3; 1xx responses skipped, RFC 9110 §15.2),
 * `http1-body.ts` decodes Content-Length, chunked (§7.1) and read-until-close bodies, and
 * `http1-request.ts` writes the request and refuses a field that would break it. Every request
 * carries `Connection: close`: one request per connection keeps the framing simple, and a
 * download opens only a handful of requests. Malformed input is refused where llhttp refuses it
 * (a bare LF, whitespace before a colon, Content-Length with Transfer-Encoding, a duplicate
 * Content-Length), except where the RFC requires a recipient to accept (obs-fold, BWS in chunk
 * extensions).
 */
import { Exchange } from './http1-exchange.js';
import { formatRequest } from './http1-request.js';

export { networkReason } from './http1-exchange.js';

/** The body of a response, read into a reused buffer. */
export interface ResponseBody {
  /**
   * Delivers the body to `sink` in order, one chunk at a time. A chunk is valid only until
   * `sink` returns (or until the promise it returns settles): its memory is then reused. One more
   * chunk is read meanwhile, then the socket waits.
   * Resolves at the end of the body, or when `sink` answers false (the connection is then
   * closed); rejects with a NetworkError on a failure, a stall or a malformed body, and with the
   * signal's reason on an abort. Call at most once.
   */
  read(sink: BodySink, options: { stallTimeout: number }): Promise<void>;
  /** Closes the connection (idempotent); a pending `read()` rejects with `error`, if given. */
  destroy(error?: Error): void;
  /** Whether every byte of the body arrived. */
  readonly complete: boolean;
}

/** Receives body bytes; false stops reading. */
export type BodySink = (chunk: Buffer) => boolean | Promise<boolean>;

export interface Http1Response {
  status: number;
  statusMessage: string;
  /** Lowercased names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  body: ResponseBody;
}

export interface Http1Options {
  /** Request header fields (names as given). */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** No response head within this many ms fails the request. */
  timeout: number;
  /** Size of each of the two reused read buffers: fewer, larger writes (-c 1 of 1 GiB from
   * loopback: 4,096 writes at 256 KiB, 1,026 at 1 MiB, ~15% less wall time). @default 1 MiB */
  bufferSize?: number;
}

/** Sends `GET url` and resolves with the response head; the body is read with `body.read()`. */
export function openHttp1(url: URL, options: Http1Options): Promise<Http1Response> {
  let request: string;
  try {
    request = formatRequest(url, options.headers); // before anything is sent
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    new Exchange(url, options).start(request, { resolve, reject });
  });
}
