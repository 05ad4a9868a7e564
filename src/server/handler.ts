/**
 * createHandler(): maps request paths to files below a root folder, safely, and serves them.
 * Works as a plain `node:http` request listener and as Connect/Express-style middleware.
 */
import { lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { resolveUrlPath } from '../core/url-path.js';
import { type Lease, OpenFileCache } from './file-cache.js';
import { isServable } from './inside-root.js';
import { sendListing } from './listing.js';
import { type ServeFileOptions, sendOpenFile, typeForPath } from './serve-file.js';

export interface HandlerOptions extends Omit<ServeFileOptions, 'type'> {
  /** Serve and list names that start with a dot. @default false */
  dotfiles?: boolean;
  /** File served for a folder URL when it exists. Set to `false` to serve none. @default 'index.html' */
  index?: string | false;
  /** Show a listing for folders without an index file (HTML, or JSON on `Accept: application/json`). @default true */
  listing?: boolean;
  /**
   * Descriptors kept open for recently served files (each request still stats the path, so edits
   * are seen at once); 0 opens and closes the file for every request. @default 64
   */
  openFiles?: number;
}

export type NextFunction = (error?: unknown) => void;
export interface Handler {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** Closes the descriptors the handler keeps open for hot files. */
  close(): void;
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

  const cache = new OpenFileCache({ max: options.openFiles ?? 64 });

  /**
   * Finds what `segments` name below the real root, or says why not. Every path served, index
   * files included, goes through here. Without symlinks on the way (the common case), one lstat per
   * segment shows the path is its own real path, and the last lstat is the file's stat. With a
   * symlink anywhere, the real path decides: it must stay inside the root, and (unless dotfiles
   * are on) contain no hidden name.
   */
  const findInside = (base: string, segments: readonly string[]): Found => {
    let path = base;
    let stats: Stats | undefined;
    for (const segment of segments) {
      path = `${path}${sep}${segment}`;
      stats = lstatSync(path);
      if (stats.isSymbolicLink()) return viaRealpath(base, join(base, ...segments));
    }
    stats ??= statSync(base);
    return classify(path, stats);
  };
  const viaRealpath = (base: string, path: string): Found => {
    const real = realpathSync.native(path);
    if (!isServable(base, real, { dotfiles })) return { kind: 'refused' };
    return classify(real, statSync(real));
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
    const serve = async (file: { real: string; stats: Stats }, name: string) => {
      let lease: Lease;
      try {
        lease = cache.acquire(file.real, file.stats);
      } catch (error) {
        return failed(error);
      }
      try {
        await sendOpenFile(req, res, lease, typeForPath(name), options);
      } finally {
        lease.release();
      }
    };
    const resolved = resolveUrlPath(req.url ?? '/', { dotfiles });
    if (resolved.kind === 'bad-request') return sendStatus(res, 400, 'Bad Request');
    if (resolved.kind === 'not-found') return notFound();

    let found: Found;
    let base: string;
    try {
      realRoot ??= realpathSync.native(root);
      base = realRoot;
      found = findInside(base, resolved.segments);
    } catch (error) {
      return failed(error);
    }
    if (found.kind === 'refused') return notFound();
    if (found.kind === 'file') return serve(found, resolved.segments.at(-1) ?? '');

    // A folder.
    if (!resolved.trailingSlash && resolved.segments.length > 0) {
      // Relative to the request (RFC 9110 §10.2.2): right under any mount prefix, and a request
      // for `//evil.example` can never turn into a redirect to another host.
      const last = encodeURIComponent(resolved.segments.at(-1) ?? '');
      return sendStatus(res, 301, 'Moved Permanently', { Location: `${last}/${resolved.query}` });
    }
    const dir = found.real;
    if (index !== false) {
      let indexFile: Found | undefined;
      try {
        indexFile = findInside(base, [...resolved.segments, index]);
      } catch (error) {
        if (!isMissing(error)) return failed(error);
      }
      if (indexFile?.kind === 'file') return serve(indexFile, index);
    }
    if (options.listing === false) return notFound();
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    }
    // An unreadable folder gets the status a file would get (403/404), not a 500.
    return sendListing(req, res, dir, resolved.segments, { dotfiles, root: base }).catch(failed);
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => {
    handle(req, res, next).catch((error: unknown) => {
      if (next) next(error);
      else sendStatus(res, 500, 'Internal Server Error');
    });
  };
  return Object.assign(handler, { close: () => cache.close() });
}

function classify(real: string, stats: Stats): Found {
  if (stats.isFile()) return { kind: 'file', real, stats };
  if (stats.isDirectory()) return { kind: 'folder', real };
  return { kind: 'refused' }; // FIFOs, sockets, devices are never opened
}

type Found =
  | { kind: 'file'; real: string; stats: Stats }
  | { kind: 'folder'; real: string }
  | { kind: 'refused' };

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
