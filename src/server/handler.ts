/**
 * createHandler(): maps request paths to files below a root folder, safely, and serves them.
 * Works as a plain `node:http` request listener and as Connect/Express-style middleware.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';
import { resolveUrlPath } from '../core/url-path.js';
import { sendListing } from './listing.js';
import { type ServeFileOptions, serveFile } from './serve-file.js';

export interface HandlerOptions extends Omit<ServeFileOptions, 'type'> {
  /** Serve and list names that start with a dot. @default false */
  dotfiles?: boolean;
  /** File served for a folder URL when it exists. Set to `false` to serve none. @default 'index.html' */
  index?: string | false;
  /** Show a listing for folders without an index file (HTML, or JSON on `Accept: application/json`). @default true */
  listing?: boolean;
}

export type NextFunction = (error?: unknown) => void;
export type Handler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;

/** True if `child` is `root` or inside it; `..`-prefixed names like `..foo` are fine. */
export function isPathInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function sendStatus(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${text}\n`;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Creates a request handler serving the files below `root`.
 *
 * - Path segments are decoded one by one; `..`, NUL and bad percent-encoding give 400; hidden
 *   files and encoded separators give 404.
 * - The real path (symlinks resolved) must stay inside the real root, or the answer is 404.
 * - A folder without a trailing slash is redirected (301) to the slashed URL.
 * - With `next` (middleware), a 404 calls `next()` instead of answering.
 */
export function createHandler(root: string, options: HandlerOptions = {}): Handler {
  const realRoot = realpath(root);
  realRoot.catch(() => {}); // reported on the first request instead of as an unhandled rejection
  const index = options.index ?? 'index.html';
  const dotfiles = options.dotfiles ?? false;

  const handle = async (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => {
    const notFound = () => (next ? next() : sendStatus(res, 404, 'Not Found'));
    const resolved = resolveUrlPath(req.url ?? '/', { dotfiles });
    if (resolved.kind === 'bad-request') return sendStatus(res, 400, 'Bad Request');
    if (resolved.kind === 'not-found') return notFound();

    const base = await realRoot;
    let real: string;
    let stats: Stats;
    try {
      real = await realpath(join(base, ...resolved.segments));
      stats = await stat(real);
    } catch (error) {
      return failed(error);
    }
    // A symlink may point anywhere; only its target's real path decides.
    if (!isPathInside(base, real)) return notFound();
    if (
      !dotfiles &&
      relative(base, real)
        .split(sep)
        .some((s) => s.startsWith('.'))
    )
      return notFound();

    if (stats.isDirectory()) {
      if (!resolved.trailingSlash && resolved.segments.length > 0) {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        return sendStatus(res, 301, 'Moved Permanently', { Location: `${path}/${resolved.query}` });
      }
      if (index !== false) {
        try {
          return await serveFile(req, res, join(real, index), options);
        } catch (error) {
          if (!isMissing(error)) return failed(error);
        }
      }
      if (options.listing === false) return notFound();
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        return sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      }
      return sendListing(req, res, real, resolved.segments, { dotfiles });
    }
    if (!stats.isFile()) return notFound();
    try {
      await serveFile(req, res, real, options);
    } catch (error) {
      failed(error);
    }

    function failed(error: unknown) {
      if (isMissing(error)) return notFound();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return sendStatus(res, 403, 'Forbidden');
      if (next) return next(error);
      return sendStatus(res, 500, 'Internal Server Error');
    }
  };

  return (req, res, next) => {
    handle(req, res, next).catch((error: unknown) => {
      if (next) next(error);
      else sendStatus(res, 500, 'Internal Server Error');
    });
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === 'ENOENT' ||
    code === 'ENOTDIR' ||
    code === 'ENAMETOOLONG' ||
    code === 'ELOOP' ||
    code === 'EISDIR'
  );
}
