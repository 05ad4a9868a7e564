/**
 * createHandler(): maps request paths to files below a root folder, safely, and serves them.
 * Works as a plain `node:http` request listener and as Connect/Express-style middleware.
 */
import { lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveUrlPath } from '../core/url-path.js';
import { type Lease, OpenFileCache } from './file-cache.js';
import { type FsPath, joinFsPath, openFolderInside, openInside } from './inside-root.js';
import { encodePathSegment } from './listing/entry.js';
import { type ListingLimits, Listings } from './listing/listings.js';
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
  /** Bounds on listings (entries per page, listings built at once). */
  listingLimits?: ListingLimits;
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
 * - What is opened (or listed) must really be inside the real root when it is opened, symlinks
 *   and all, or the answer is 404: the check is made on the opened descriptor (inside-root.ts), so
 *   swapping a name for a symlink meanwhile cannot lead out of the root.
 * - A folder without a trailing slash is redirected (301) to the slashed URL.
 * - With `next` (middleware), a 404 calls `next()` instead of answering.
 */
export function createHandler(root: string, options: HandlerOptions = {}): Handler {
  const index = options.index ?? 'index.html';
  const dotfiles = options.dotfiles ?? false;
  const inside = { dotfiles };
  let realRoot: string | undefined;

  const cache = new OpenFileCache({ max: options.openFiles ?? 64 });
  const listings = new Listings(options.listingLimits);

  /**
   * Says what `names` lead to below the real root, without opening it. Without symlinks on the way
   * (the common case), one lstat per name; with one, a stat of the whole path. This only sorts
   * requests: whatever it says, the file or folder is checked again when it is opened.
   */
  const find = (base: string, names: readonly FsPath[]): Found => {
    let path: FsPath = base;
    let stats: Stats | undefined;
    for (let i = 0; i < names.length; i++) {
      path = joinFsPath(path, names[i] as FsPath);
      stats = lstatSync(path);
      if (stats.isSymbolicLink()) {
        for (const rest of names.slice(i + 1)) path = joinFsPath(path, rest);
        return classify(path, statSync(path));
      }
    }
    return classify(path, stats ?? statSync(base));
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
    const serve = async (base: string, file: FoundFile, name: string) => {
      let lease: Lease | undefined;
      try {
        lease = cache.acquire(cacheKey(file.path), file.stats, () => {
          const opened = openInside(base, file.path, inside);
          return opened.kind === 'file' ? opened : undefined;
        });
      } catch (error) {
        return failed(error);
      }
      if (lease === undefined) return notFound();
      try {
        await sendOpenFile(req, res, lease, typeForPath(name), options);
      } finally {
        lease.release();
      }
    };
    // A request line without an HTTP version (HTTP/0.9's `GET /`) is no HTTP/1.x request:
    // node:http takes it as version 0.9; RFC 9112 §3 requires the version.
    if (req.httpVersionMajor < 1) {
      res.shouldKeepAlive = false;
      return sendStatus(res, 400, 'Bad Request', { Connection: 'close' });
    }
    const resolved = resolveUrlPath(req.url ?? '/', { dotfiles });
    if (resolved.kind === 'bad-request') return sendStatus(res, 400, 'Bad Request');
    if (resolved.kind === 'not-found') return notFound();
    const names: FsPath[] = resolved.bytes?.map((b) => Buffer.from(b)) ?? resolved.segments;

    let found: Found;
    let base: string;
    try {
      realRoot ??= realpathSync.native(root);
      base = realRoot;
      found = find(base, names);
    } catch (error) {
      return failed(error);
    }
    if (found.kind === 'refused') return notFound();
    if (found.kind === 'file') return serve(base, found, resolved.segments.at(-1) ?? '');

    // A folder: checked (and, for a listing, held open) before anything about it is said.
    let folder: ReturnType<typeof openFolderInside>;
    try {
      folder = openFolderInside(base, found.path, inside);
    } catch (error) {
      return failed(error);
    }
    if (folder === undefined) return notFound();
    const opened = folder;
    try {
      if (!resolved.trailingSlash && names.length > 0) {
        // Relative to the request (RFC 9110 §10.2.2): right under any mount prefix, and a request
        // for `//evil.example` can never turn into a redirect to another host.
        const last = encodePathSegment(names.at(-1) ?? '');
        return sendStatus(res, 301, 'Moved Permanently', { Location: `${last}/${resolved.query}` });
      }
      if (index !== false) {
        let indexFile: Found | undefined;
        try {
          indexFile = find(base, [...names, index]);
        } catch (error) {
          if (!isMissing(error)) return failed(error);
        }
        if (indexFile?.kind === 'file') return await serve(base, indexFile, index);
      }
      if (options.listing === false) return notFound();
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        return sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      }
      // An unreadable folder gets the status a file would get (403/404), not a 500.
      await listings
        .send(req, res, opened, resolved.segments, { dotfiles, root: base })
        .catch(failed);
    } finally {
      opened.close();
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => {
    handle(req, res, next).catch((error: unknown) => {
      if (next) next(error);
      else sendStatus(res, 500, 'Internal Server Error');
    });
  };
  return Object.assign(handler, { close: () => cache.close() });
}

/** The cache key for a path (raw-byte paths get a prefix no real path can start with). */
function cacheKey(path: FsPath): string {
  return typeof path === 'string' ? path : `\0${path.toString('latin1')}`;
}

function classify(path: FsPath, stats: Stats): Found {
  if (stats.isFile()) return { kind: 'file', path, stats };
  if (stats.isDirectory()) return { kind: 'folder', path };
  return { kind: 'refused' }; // FIFOs, sockets, devices are never opened
}

interface FoundFile {
  kind: 'file';
  path: FsPath;
  stats: Stats;
}
type Found = FoundFile | { kind: 'folder'; path: FsPath } | { kind: 'refused' };

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
