/**
 * serveFile(): the I/O shell over `planResponse`. It opens and stats the file, asks the core what
 * to send, and writes exactly that, with backpressure, stopping when the client goes away.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { contentType } from 'mime-types';
import { type BodyPart, type PlanOptions, planResponse } from '../core/respond.js';

export interface ServeFileOptions {
  /** Most range-specs honoured in one Range header; more and the whole file is sent. @default 100 */
  maxRanges?: number;
  /** A Cache-Control value for file responses. @default none */
  cacheControl?: string;
  /** Content-Type to send; looked up from the file extension when absent. */
  type?: string;
}

/** Largest positional read; also the unit of backpressure. */
const CHUNK = 256 * 1024;

/** Content-Type for a file name, with a charset for text types; octet-stream when unknown. */
export function typeForPath(filePath: string): string {
  return contentType(extname(filePath)) || 'application/octet-stream';
}

/** A random multipart boundary (RFC 2046 allows up to 70 characters). */
export function randomBoundary(): string {
  return `ranged-${randomBytes(16).toString('hex')}`;
}

/**
 * Serves one regular file for a request: conditionals, ranges, multipart, HEAD and 405.
 * Resolves when the response is finished or the client has gone; rejects only if the file cannot
 * be opened (the caller maps ENOENT/EACCES to a status). A file that shrinks while it is sent makes
 * the response end short by destroying the socket, so the client sees a truncated transfer and
 * never a silently wrong body.
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  filePath: string,
  options: ServeFileOptions = {},
): Promise<void> {
  const fh = await open(filePath, 'r');
  try {
    const stats = await fh.stat();
    if (!stats.isFile()) {
      const error = new Error(
        `Cannot serve "${filePath}": not a regular file`,
      ) as NodeJS.ErrnoException;
      error.code = 'ENOENT';
      throw error;
    }
    await sendOpenFile(req, res, fh, stats, options.type ?? typeForPath(filePath), options);
  } finally {
    await fh.close();
  }
}

/** Writes the planned response for an already opened and stat'ed file. */
export async function sendOpenFile(
  req: IncomingMessage,
  res: ServerResponse,
  fh: FileHandle,
  stats: Stats,
  type: string,
  options: ServeFileOptions = {},
): Promise<void> {
  const planOptions: PlanOptions = { boundary: randomBoundary() };
  if (options.maxRanges !== undefined) planOptions.maxRanges = options.maxRanges;
  if (options.cacheControl !== undefined) planOptions.cacheControl = options.cacheControl;
  const h = req.headers;
  const plan = planResponse(
    {
      method: req.method ?? 'GET',
      headers: {
        range: h.range,
        ifRange: header(h['if-range']),
        ifMatch: h['if-match'],
        ifNoneMatch: h['if-none-match'],
        ifModifiedSince: h['if-modified-since'],
        ifUnmodifiedSince: h['if-unmodified-since'],
      },
    },
    { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, type },
    planOptions,
  );
  res.writeHead(plan.status, plan.headers);
  if (req.method === 'HEAD' || plan.body.length === 0) {
    res.end();
    return;
  }
  if (!(await writeBody(res, fh, plan.body))) return;
  res.end();
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Writes the body parts in order; false if the client went away or the file shrank. */
async function writeBody(res: ServerResponse, fh: FileHandle, parts: BodyPart[]): Promise<boolean> {
  for (const part of parts) {
    if (res.destroyed) return false;
    if ('bytes' in part) {
      if (!res.write(part.bytes) && !(await drained(res))) return false;
      continue;
    }
    let pos = part.start;
    while (pos <= part.end) {
      const want = Math.min(CHUNK, part.end - pos + 1);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (res.destroyed) return false;
      if (bytesRead === 0) {
        // The file is shorter than when it was stat'ed: the promised Content-Length cannot be met.
        res.destroy();
        return false;
      }
      pos += bytesRead;
      if (
        !res.write(bytesRead === want ? buf : buf.subarray(0, bytesRead)) &&
        !(await drained(res))
      ) {
        return false;
      }
    }
  }
  return true;
}

/** Waits for 'drain'; false if the response closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
