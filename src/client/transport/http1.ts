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
import type { Http1Options, Http1Response } from './http1-types.js';

export type { BodySink, Http1Options, Http1Response, ResponseBody } from './http1-types.js';
export { networkReason } from './network-error.js';

/** Sends `GET url` and resolves with the response head; the body is read with `body.read()`. */
export function openHttp1(url: URL, options: Http1Options): Promise<Http1Response> {
  let request: string;
  try {
    // Checked before anything is sent; absolute-form to a proxy.
    request = formatRequest(url, options.headers, { absolute: options.proxy !== undefined });
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    new Exchange(url, options).start(request, { resolve, reject });
  });
}
