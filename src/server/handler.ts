/**
 * createHandler(): maps request paths to files below a root folder, safely, and serves them.
 * Works as a plain `node:http` request listener and as Connect/Express-style middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACTIVE_CONTENT_CSP, isActiveContent } from '../core/active-content.js';
import { type CorsPolicy, parseCorsPolicy, planCors } from '../core/cors.js';
import { resolveUrlPath } from '../core/url-path.js';
import { cut, endWith, isHttp2, originalUrl, type Request, type Response } from './exchange.js';
import type { FsPath } from './inside-root.js';
import { encodePathSegment } from './listing/entry.js';
import { type ListingLimits, Listings } from './listing/listings.js';
import { type ServeFileOptions, typeForPath } from './serve-file.js';
import { FileSource } from './sources/file.js';
import {
  type Found,
  type ListedFolder,
  type Source,
  StoreUnavailableError,
} from './sources/source.js';
import { createUploads, type UploadOptions, type Uploads } from './uploads/uploads.js';

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
  /**
   * Let web pages on other origins read what is served (CORS): `true` or `'*'` for any origin, or
   * one origin such as `'https://app.example'`. Preflights for Range and the conditional fields
   * are answered 204, and Content-Range, Accept-Ranges, ETag, Content-Length and Last-Modified
   * are exposed. @default false (no Access-Control-* field at all)
   */
  cors?: boolean | string;
  /**
   * Take resumable uploads (tus 1.0.0 at `/.uploads/`, the IETF resumable-upload draft and plain
   * PUT on file paths), each request with `Authorization: Bearer <token>`. Unfinished uploads live
   * in `<root>/.ranged-uploads/`, which is never served or listed. @default undefined (off)
   */
  uploads?: UploadOptions;
}

export type NextFunction = (error?: unknown) => void;
export interface Handler {
  (req: Request, res: Response, next?: NextFunction): void;
  /** Closes the descriptors the handler keeps open for hot files. */
  close(): void;
}

function sendStatus(
  res: Response,
  status: number,
  text: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) {
    cut(res);
    return;
  }
  const body = `${text}\n`;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  endWith(res, res.req.method === 'HEAD' ? undefined : body);
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
export function createHandler(root: string | Source, options: HandlerOptions = {}): Handler {
  const index = options.index ?? 'index.html';
  const dotfiles = options.dotfiles ?? false;
  const source: Source =
    typeof root === 'string'
      ? new FileSource(root, { dotfiles, openFiles: options.openFiles ?? 64 })
      : root;

  const cors = corsPolicy(options.cors);
  const listings = new Listings(options.listingLimits);
  let uploads: Uploads | undefined;
  if (options.uploads !== undefined) {
    uploads = createUploads(source.uploadStore(), options.uploads, dotfiles);
  }

  const handle = async (req: Request, res: Response, next?: NextFunction) => {
    const notFound = () => (next ? next() : sendStatus(res, 404, 'Not Found'));
    const failed = (error: unknown) => {
      if (error instanceof StoreUnavailableError) {
        const text = error.status === 504 ? 'Gateway Timeout' : 'Bad Gateway';
        return sendStatus(res, error.status, `${text}: the store behind this server failed`, {
          'Retry-After': '5',
        });
      }
      if (isMissing(error)) return notFound();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return sendStatus(res, 403, 'Forbidden');
      if (next) return next(error);
      return sendStatus(res, 500, 'Internal Server Error');
    };
    const serve = async (file: Extract<Found, { kind: 'file' }>, name: string) => {
      const type = typeForPath(name);
      // An uploaded page must not run in this origin, where the listing page keeps the upload
      // token (sessionStorage): with uploads on, HTML, SVG and XML are sandboxed (opaque origin).
      if (uploads !== undefined && isActiveContent(type)) {
        res.setHeader('Content-Security-Policy', ACTIVE_CONTENT_CSP);
      }
      try {
        await source.send(req, res, file, type, options);
      } catch (error) {
        failed(error);
      }
    };
    if (cors !== undefined && answerCors(req, res, cors, uploads !== undefined)) return;
    // A request line without an HTTP version (HTTP/0.9's `GET /`) is no HTTP/1.x request:
    // node:http takes it as version 0.9; RFC 9112 §3 requires the version.
    if (req.httpVersionMajor < 1 && !isHttp2(res)) {
      res.shouldKeepAlive = false;
      return sendStatus(res, 400, 'Bad Request', { Connection: 'close' });
    }
    if (uploads !== undefined && (await uploads.handle(req, res))) return;
    const resolved = resolveUrlPath(req.url ?? '/', { dotfiles });
    if (resolved.kind === 'bad-request') return sendStatus(res, 400, 'Bad Request');
    if (resolved.kind === 'not-found') return notFound();
    const names: FsPath[] = resolved.bytes?.map((b) => Buffer.from(b)) ?? resolved.segments;

    let found: Found;
    try {
      found = await source.find(names);
    } catch (error) {
      return failed(error);
    }
    if (found.kind === 'refused') return notFound();
    if (found.kind === 'file') return serve(found, resolved.segments.at(-1) ?? '');

    // A folder: checked (and, for a listing, held open) before anything about it is said.
    let folder: ListedFolder | undefined;
    try {
      folder = source.openFolder(found);
    } catch (error) {
      return failed(error);
    }
    if (folder === undefined) return notFound();
    const opened = folder;
    try {
      const location = slashRedirect(req, names, resolved);
      if (location !== undefined) {
        return sendStatus(res, 301, 'Moved Permanently', { Location: location });
      }
      if (index !== false) {
        let indexFile: Found | undefined;
        try {
          indexFile = await source.find([...names, index]);
        } catch (error) {
          if (!isMissing(error)) return failed(error);
        }
        if (indexFile?.kind === 'file') return await serve(indexFile, index);
      }
      if (options.listing === false) return notFound();
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        return sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      }
      // An unreadable folder gets the status a file would get (403/404), not a 500.
      // The listing uses only what both HTTP/1.x and HTTP/2 compatibility objects have
      // (headers, url, method, writeHead, end, headersSent, destroy).
      await listings
        .send(req as IncomingMessage, res as ServerResponse, opened, resolved.segments, {
          uploads: uploads !== undefined,
        })
        .catch(failed);
    } finally {
      opened.close();
    }
  };

  const handler = (req: Request, res: Response, next?: NextFunction) => {
    handle(req, res, next).catch((error: unknown) => {
      if (next) next(error);
      else sendStatus(res, 500, 'Internal Server Error');
    });
  };
  return Object.assign(handler, {
    close: () => {
      source.close();
      uploads?.close();
    },
  });
}

function corsPolicy(option: boolean | string | undefined): CorsPolicy | undefined {
  if (option === undefined || option === false) return undefined;
  const policy = parseCorsPolicy(option === true ? '*' : option);
  if (policy === undefined) {
    throw new TypeError(`Cannot use cors "${option}": expected true, '*' or an http(s) origin`);
  }
  return policy;
}

/**
 * Adds the CORS fields to the response; answers a preflight at once (true). The fields are set on
 * the response before its head is written, and a Vary the head itself carries (a listing's
 * `Vary: Accept`) is merged with CORS's `Vary: Origin`, not replaced.
 */
function answerCors(req: Request, res: Response, policy: CorsPolicy, uploads: boolean): boolean {
  const h = req.headers;
  const decision = planCors(
    {
      method: req.method ?? 'GET',
      origin: single(h.origin),
      requestMethod: single(h['access-control-request-method']),
    },
    policy,
    { uploads },
  );
  if (decision.kind === 'preflight') {
    res.writeHead(204, decision.headers);
    res.end();
    return true;
  }
  const { Vary: vary, ...rest } = decision.headers;
  for (const [name, value] of Object.entries(rest)) res.setHeader(name, value);
  if (vary !== undefined) {
    const writeHead = res.writeHead as (
      status: number,
      headers?: Record<string, string>,
    ) => unknown;
    (res as { writeHead: typeof writeHead }).writeHead = (status, headers = {}) => {
      const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
      const merged = { ...headers };
      if (key === undefined) merged.Vary = vary;
      else merged[key] = `${headers[key]}, ${vary}`;
      return writeHead.call(res, status, merged);
    };
  }
  return false;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Where a folder URL without its final slash is redirected (301), or undefined when it has one.
 * The Location is relative to the request (RFC 9110 §10.2.2), so it stays right under any mount
 * prefix, and a request for `//evil.example` can never turn into a redirect to another host.
 * Mounted with a prefix (Express: `app.use('/files', handler)`), `GET /files` reaches the handler
 * as `/`, and only the original URL shows the slash is missing.
 */
function slashRedirect(
  req: Request,
  names: readonly FsPath[],
  resolved: { trailingSlash: boolean; query: string },
): string | undefined {
  if (!resolved.trailingSlash && names.length > 0) {
    return `${encodePathSegment(names.at(-1) ?? '')}/${resolved.query}`;
  }
  if (names.length > 0) return undefined;
  const original = originalUrl(req);
  const q = original.indexOf('?');
  const path = q === -1 ? original : original.slice(0, q);
  if (path === '' || path.endsWith('/')) return undefined;
  // The last segment as the client sent it (already percent-encoded); `./` keeps a segment
  // holding a colon from reading as a scheme.
  const last = path.slice(path.lastIndexOf('/') + 1);
  return `./${last}/${q === -1 ? '' : original.slice(q)}`;
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
