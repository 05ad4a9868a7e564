/**
 * createHandler(): maps request paths to files below a root folder, safely, and serves them.
 * Works as a plain `node:http` request listener and as Connect/Express-style middleware.
 */
import { closeSync, realpathSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';
import { resolveUrlPath } from '../core/url-path.js';
import { sendListing } from './listing.js';
import {
  type OpenFile,
  openForServing,
  type ServeFileOptions,
  sendOpenFile,
  typeForPath,
} from './serve-file.js';

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
  const index = options.index ?? 'index.html';
  const dotfiles = options.dotfiles ?? false;
  let realRoot: string | undefined;

  /**
   * Resolves a path below the root to its real path and opens it, or says why not. Every path
   * served, index files included, goes through here: a symlink may point anywhere, and only its
   * target's real path decides.
   */
  const openInside = (base: string, path: string): OpenFile | 'outside' => {
    const real = realpathSync.native(path);
    if (!isPathInside(base, real)) return 'outside';
    if (!dotfiles && real !== base && hasDotSegment(real.slice(base.length))) return 'outside';
    return openForServing(real);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => {
    const notFound = () => (next ? next() : sendStatus(res, 404, 'Not Found'));
    const failed = (error: unknown) => {
      if (isMissing(error)) return notFound();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return sendStatus(res, 403, 'Forbidden');
      if (next) return next(error);
      return sendStatus(res, 500, 'Internal Server Error');
    };
    const resolved = resolveUrlPath(req.url ?? '/', { dotfiles });
    if (resolved.kind === 'bad-request') return sendStatus(res, 400, 'Bad Request');
    if (resolved.kind === 'not-found') return notFound();

    let file: OpenFile | 'outside';
    let base: string;
    try {
      realRoot ??= realpathSync.native(root);
      base = realRoot;
      file = openInside(base, join(base, ...resolved.segments));
    } catch (error) {
      return failed(error);
    }
    if (file === 'outside') return notFound();

    if (file.stats.isFile()) {
      return sendOpenFile(req, res, file, typeForPath(resolved.segments.at(-1) ?? ''), options);
    }
    // A folder.
    closeSync(file.fd);
    if (!resolved.trailingSlash && resolved.segments.length > 0) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      return sendStatus(res, 301, 'Moved Permanently', { Location: `${path}/${resolved.query}` });
    }
    const dir = join(base, ...resolved.segments);
    if (index !== false) {
      let indexFile: OpenFile | 'outside' | undefined;
      try {
        indexFile = openInside(base, join(dir, index));
      } catch (error) {
        if (!isMissing(error)) return failed(error);
      }
      if (indexFile !== undefined && indexFile !== 'outside') {
        if (indexFile.stats.isFile())
          return sendOpenFile(req, res, indexFile, typeForPath(index), options);
        closeSync(indexFile.fd);
      }
    }
    if (options.listing === false) return notFound();
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    }
    // An unreadable folder gets the status a file would get (403/404), not a 500.
    return sendListing(req, res, dir, resolved.segments, { dotfiles }).catch(failed);
  };

  return (req, res, next) => {
    handle(req, res, next).catch((error: unknown) => {
      if (next) next(error);
      else sendStatus(res, 500, 'Internal Server Error');
    });
  };
}

function hasDotSegment(relativePath: string): boolean {
  return relativePath.split(sep).some((s) => s.startsWith('.'));
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
