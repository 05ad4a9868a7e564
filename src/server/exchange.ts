/**
 * The request and response objects the server code works with: node:http's (HTTP/1.x) or
 * node:http2's compatibility objects (HTTP/2). Both have the same writeHead/write/end/on('drain')
 * API; the few things only one of them has are read through the helpers here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type Request = IncomingMessage | Http2ServerRequest;
export type Response = ServerResponse | Http2ServerResponse;

/** True when the response is an HTTP/2 stream (Connection-specific fields are illegal there). */
export function isHttp2(res: Response): res is Http2ServerResponse {
  return 'stream' in res && res.stream !== undefined;
}

/** True once the response can no longer send (the client went away or it was cut). */
export function isClosed(res: Response): boolean {
  return isHttp2(res) ? res.stream.destroyed : res.destroyed;
}

/** True while the response's buffer is full and a 'drain' is awaited. */
export function needsDrain(res: Response): boolean {
  return isHttp2(res) ? res.stream.writableNeedDrain : res.writableNeedDrain;
}

/** Cuts the response (HTTP/1.x: the connection; HTTP/2: only this stream). */
export function cut(res: Response): void {
  if (isHttp2(res)) res.stream.destroy();
  else res.destroy();
}

/** The request as the client sent it, before a framework stripped a mount prefix (Express). */
export function originalUrl(req: Request): string {
  const original = (req as { originalUrl?: unknown }).originalUrl;
  return typeof original === 'string' ? original : (req.url ?? '/');
}

/** Writes a body chunk; `done` is called once it has been handed on. */
export function writeChunk(res: Response, chunk: Uint8Array, done?: () => void): boolean {
  // Both objects take (chunk, callback); the typings of the union do not say so.
  return (res as ServerResponse).write(chunk, done);
}

/** Ends the response, with a last chunk of text or bytes (nothing for HEAD). */
export function endWith(res: Response, body?: string | Uint8Array): void {
  if (body === undefined) res.end();
  else (res as ServerResponse).end(body);
}

/** Requests whose client waits for 100 (Continue) before it sends the body, and their responses. */
const awaitingContinue = new WeakMap<Request, Response>();

/**
 * Called by the server's 'checkContinue' listener instead of node's automatic 100 (Continue): the
 * interim response is sent only once the body is about to be read (continueBody()), so a request
 * refused first (401, 409, 413) gets its final status without the client sending the body
 * (RFC 9110 §10.1.1), rather than a reset connection halfway through it.
 */
export function expectContinue(req: Request, res: Response): void {
  awaitingContinue.set(req, res);
}

/** Sends the 100 (Continue) a client waits for, if any, just before its body is read. */
export function continueBody(req: Request): void {
  const res = awaitingContinue.get(req);
  if (res === undefined) return;
  awaitingContinue.delete(req);
  if (!res.headersSent) res.writeContinue();
}
