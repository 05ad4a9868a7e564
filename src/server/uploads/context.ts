/**
 * What every upload request shares: the options and their defaults, the store and the locks, the
 * bearer token check (constant time), the minimum-speed watch of a body, and how responses go out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { forwardedPrefix } from '../../core/upload/forwarded-prefix.js';
import type { TokenCheck } from '../../core/upload/tus-plan.js';
import { cut, endWith, isHttp2, originalUrl, type Request, type Response } from '../exchange.js';
import type { UploadLocks } from './locks.js';
import type { UploadStore } from './store-types.js';

export interface UploadOptions {
  /** The bearer token every upload request must carry (`Authorization: Bearer TOKEN`). */
  token: string;
  /** The largest upload in bytes (tus Tus-Max-Size, the draft's max-size). @default undefined (none) */
  maxSize?: number | undefined;
  /** An unfinished upload expires this long after its last activity, in ms. @default 86_400_000 (24 h) */
  expires?: number;
  /** Most unfinished uploads at once; one more is refused with 503. @default 1000 */
  maxUploads?: number;
  /**
   * Most bytes the unfinished uploads may still claim together (their declared lengths); past it,
   * 507. The free disk space is always a limit. @default undefined (the disk)
   */
  maxPendingBytes?: number | undefined;
  /** A body slower than this, in bytes per second over `speedWindow`, is cut (its bytes kept). @default 1024 */
  minSpeed?: number;
  /** The window of the minimum speed, in ms. @default 30_000 */
  speedWindow?: number;
  /**
   * Least time between two checkpoints of an upload (its bytes synced to disk and recorded) while
   * PATCHes stream in, in ms: a power cut loses at most about this much of what was confirmed (the
   * client sends it again from the offset HEAD gives). Completion always syncs. @default 1000
   */
  syncInterval?: number;
  /** The longest Upload-Metadata field, in characters. @default 4096 */
  maxMetadataLength?: number;
  /**
   * The request-release locks. @default one table in this process (with `--workers`, the CLI
   * passes the primary's: clusterLocks())
   */
  locks?: UploadLocks;
  /** The clock, ms since the epoch. @default Date.now */
  now?: () => number;
}

export const UPLOAD_DEFAULTS = {
  expires: 86_400_000,
  maxUploads: 1000,
  minSpeed: 1024,
  speedWindow: 30_000,
  maxMetadataLength: 4096,
  syncInterval: 1000,
} as const;

/** The path below which tus upload resources live (issue 12). */
export const TUS_ENDPOINT = '/.uploads/';

export interface UploadContext {
  store: UploadStore;
  locks: UploadLocks;
  token: string;
  maxSize: number | undefined;
  expires: number;
  minSpeed: number;
  speedWindow: number;
  maxMetadataLength: number;
  dotfiles: boolean;
  now: () => number;
}

/**
 * Why a target path is reserved (undefined when it is not): the store's folder and the tus
 * endpoint's name at the top of the served folder could never be served.
 */
export function reservedTarget(target: readonly string[]): string | undefined {
  const top = target[0];
  if (top === '.ranged-uploads' || top === '.uploads') return `bad filename: ${top} is reserved`;
  return undefined;
}

/** Checks `Authorization: Bearer TOKEN` against the token, in time independent of both. */
export function checkToken(req: Request, token: string): TokenCheck {
  const header = req.headers.authorization;
  if (header === undefined) return 'missing';
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  if (match === null) return 'wrong';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1] as string), digest(token)) ? 'ok' : 'wrong';
}

/**
 * What stands before the server's own paths in the URL the client used, so a Location names the
 * upload under that URL: a reverse proxy's `X-Forwarded-Prefix` (the path it stripped), then the
 * handler's mount prefix (Express `app.use('/files', …)` strips it from `req.url`).
 */
export function mountPrefix(req: Request): string {
  const strip = (url: string) => {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  };
  const original = strip(originalUrl(req));
  const own = strip(req.url ?? '/');
  const mount = original.endsWith(own) ? original.slice(0, original.length - own.length) : '';
  return `${forwardedPrefix(req.headers['x-forwarded-prefix'])}${mount}`;
}

/** True while a request body may still be coming (a length above 0, or chunked). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Sends a response with a short text body (none for HEAD or 204). A refusal sent before a body was
 * read closes an HTTP/1.1 connection, so the unread body is not read to find the next request.
 */
export function answer(
  req: Request,
  res: Response,
  status: number,
  headers: Record<string, string>,
  text?: string,
  options: { bodyUnread?: boolean } = {},
): void {
  if (res.headersSent) {
    cut(res);
    return;
  }
  const out: Record<string, string> = { ...headers };
  if (options.bodyUnread && !isHttp2(res) && hasBody(req)) {
    out.Connection = 'close';
    lingerOnClose(req as IncomingMessage);
  }
  const body =
    text === undefined || status === 204 || status === 304 || req.method === 'HEAD'
      ? undefined
      : `${text}\n`;
  if (body !== undefined) out['Content-Type'] = 'text/plain; charset=utf-8';
  if (status !== 204 && status !== 304)
    out['Content-Length'] = String(body === undefined ? 0 : Buffer.byteLength(body));
  // tus 1.0.0 §Checksum names 460 "Checksum Mismatch"; node knows no phrase for it ("unknown").
  if (status === 460 && !isHttp2(res)) res.statusMessage = 'Checksum Mismatch';
  res.writeHead(status, out);
  endWith(res, body);
}

/** How long a connection closed with its request body unread goes on reading (and discarding). */
const LINGER_MS = 2_000;

/**
 * RFC 9112 §9.6: a server that closes at once, while the client still sends a body it did not
 * read, risks a TCP reset that loses its response (a 401 or 409 before a PATCH body came back as
 * EPIPE to node's client about 1 in 7 times). So the connection is half-closed: node's close after
 * the response (destroySoon()) sends FIN, keeps reading and discarding what arrives, and destroys
 * the socket when the client closes its side, or after LINGER_MS.
 */
function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  if (typeof socket.destroySoon !== 'function') return;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * Watches a body's speed: aborts `controller` when fewer than minSpeed × window bytes came in the
 * last window (a stalled or trickling client cannot hold the upload forever). Call the returned
 * function with each piece's size; stop() ends the watch.
 */
export function watchSpeed(
  context: UploadContext,
  controller: AbortController,
): { onBytes(count: number): void; stop(): void } {
  let bytes = 0;
  const floor = (context.minSpeed * context.speedWindow) / 1000;
  const timer = setInterval(() => {
    if (bytes < floor) controller.abort(new Error('body slower than the minimum speed'));
    bytes = 0;
  }, context.speedWindow);
  timer.unref();
  return {
    onBytes: (count) => {
      bytes += count;
    },
    stop: () => clearInterval(timer),
  };
}
