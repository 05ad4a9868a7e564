/**
 * serveFile(): the I/O shell over `planResponse`. It opens and stats the file, asks the core what
 * to send, and writes exactly that, with backpressure, stopping when the client goes away.
 *
 * File metadata calls (open, fstat, close) and reads of small bodies are synchronous, as in nginx:
 * on a local disk they take microseconds, far less than a trip through libuv's thread pool. Large
 * bodies are read asynchronously in 1 MiB positional reads into at most four reused buffers, so a big
 * download neither blocks the event loop nor allocates per chunk.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
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

/** Largest positional read for big bodies (1 MiB reads measured ~2x faster than 256 KiB). */
const CHUNK = 1024 * 1024;
/** Buffers one big response may fill at once: reads overlap writes, memory stays bounded. */
const BUFFERS = 4;
/** Bodies up to this size are read in one synchronous read and sent with the headers. */
const SMALL_BODY = 64 * 1024;
/** O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on regular files. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

const types = new Map<string, string>();

/** Content-Type for a file name, with a charset for text types; octet-stream when unknown. */
export function typeForPath(filePath: string): string {
  const ext = extname(filePath).toLowerCase();
  let type = types.get(ext);
  if (type === undefined) {
    type = contentType(ext) || 'application/octet-stream';
    if (types.size < 1000) types.set(ext, type);
  }
  return type;
}

/** A random multipart boundary (RFC 2046 allows up to 70 characters). */
export function randomBoundary(): string {
  return `ranged-${randomBytes(12).toString('hex')}`;
}

/** An open file: its descriptor and the stats of that descriptor. */
export interface OpenFile {
  fd: number;
  stats: Stats;
  /** The strong ETag, when the caller already knows it; computed from the stats otherwise. */
  etag?: string;
}

/**
 * Opens a path for serving. Rejects (ENOENT) for anything that is not a regular file or folder,
 * so FIFOs, sockets and devices are never read. The caller owns the descriptor.
 */
export function openForServing(path: string): OpenFile {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() && !stats.isDirectory()) {
      throw Object.assign(new Error(`Cannot serve "${path}": not a regular file`), {
        code: 'ENOENT',
      });
    }
    return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Serves one regular file for a request: conditionals, ranges, multipart, HEAD and 405.
 * Resolves when the response is finished or the client has gone; rejects only if the file cannot
 * be opened or is not a regular file (the caller maps ENOENT/EACCES to a status).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  filePath: string,
  options: ServeFileOptions = {},
): Promise<void> {
  const file = openForServing(filePath);
  if (!file.stats.isFile()) {
    closeSync(file.fd);
    throw Object.assign(new Error(`Cannot serve "${filePath}": a folder`), { code: 'EISDIR' });
  }
  try {
    await sendOpenFile(req, res, file, options.type ?? typeForPath(filePath), options);
  } finally {
    closeSync(file.fd);
  }
}

/**
 * Writes the planned response for an open regular file; the caller closes the descriptor. A file that
 * shrinks while it is sent makes the response end short by destroying the socket, so the client
 * sees a truncated transfer and never a silently wrong body.
 */
export async function sendOpenFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: OpenFile,
  type: string,
  options: ServeFileOptions = {},
): Promise<void> {
  const { fd, stats } = file;
  const planOptions: PlanOptions = { boundary: randomBoundary };
  if (options.maxRanges !== undefined) planOptions.maxRanges = options.maxRanges;
  if (options.cacheControl !== undefined) planOptions.cacheControl = options.cacheControl;
  const h = req.headers;
  const plan = planResponse(
    {
      method: req.method ?? 'GET',
      headers: {
        range: h.range,
        ifRange: joined(h['if-range']),
        ifMatch: h['if-match'],
        ifNoneMatch: h['if-none-match'],
        ifModifiedSince: h['if-modified-since'],
        ifUnmodifiedSince: h['if-unmodified-since'],
      },
    },
    {
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
      type,
      ...(file.etag === undefined ? {} : { etag: file.etag }),
    },
    planOptions,
  );
  if (req.method === 'HEAD' || plan.body.length === 0) {
    res.writeHead(plan.status, plan.headers);
    res.end();
    return;
  }
  const length = Number(plan.headers['Content-Length']);
  if (length <= SMALL_BODY) {
    const body = readSmallBody(fd, plan.body, length);
    if (body === undefined) {
      // The file shrank between stat and read: ask the client to come back for the new version.
      res.writeHead(503, { 'Retry-After': '1', 'Content-Length': '0' });
      res.end();
      return;
    }
    res.writeHead(plan.status, plan.headers);
    res.end(body);
    return;
  }
  res.writeHead(plan.status, plan.headers);
  if (await writeLargeBody(res, fd, plan.body)) res.end();
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Reads every part into one buffer; undefined if the file turned out shorter than planned. */
function readSmallBody(fd: number, parts: BodyPart[], length: number): Buffer | undefined {
  const body = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) {
    if ('bytes' in part) {
      body.set(part.bytes, at);
      at += part.bytes.length;
      continue;
    }
    const want = part.end - part.start + 1;
    let got = 0;
    while (got < want) {
      const n = readSync(fd, body, at + got, want - got, part.start + got);
      if (n === 0) return undefined;
      got += n;
    }
    at += want;
  }
  return body;
}

function readAsync(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

function bodyLength(parts: BodyPart[]): number {
  let length = 0;
  for (const part of parts)
    length += 'bytes' in part ? part.bytes.length : part.end - part.start + 1;
  return length;
}

/**
 * Writes the body parts in order through up to BUFFERS reused buffers, so reading overlaps
 * writing. Returns false if the client went away or the file shrank.
 */
async function writeLargeBody(
  res: ServerResponse,
  fd: number,
  parts: BodyPart[],
): Promise<boolean> {
  const size = Math.min(CHUNK, bodyLength(parts));
  const free: Buffer[] = [];
  let allocated = 0;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  res.on('close', wake);
  const take = async (): Promise<Buffer | undefined> => {
    if (free.length === 0 && allocated < BUFFERS) {
      allocated++;
      return Buffer.allocUnsafe(size);
    }
    while (free.length === 0 && !res.destroyed)
      await new Promise<void>((resolve) => (waiter = resolve));
    return res.destroyed ? undefined : free.pop();
  };
  try {
    for (const part of parts) {
      if (res.destroyed) return false;
      if ('bytes' in part) {
        res.write(part.bytes);
        continue;
      }
      let pos = part.start;
      while (pos <= part.end) {
        const buf = await take();
        if (buf === undefined) return false;
        const want = Math.min(size, part.end - pos + 1);
        const n = await readAsync(fd, buf, want, pos);
        if (res.destroyed) return false;
        if (n === 0) {
          // The file is shorter than when it was stat'ed: the promised Content-Length cannot be met.
          res.destroy();
          return false;
        }
        pos += n;
        res.write(n === size ? buf : buf.subarray(0, n), () => {
          free.push(buf);
          wake();
        });
      }
    }
    return !res.destroyed;
  } finally {
    res.off('close', wake);
  }
}
