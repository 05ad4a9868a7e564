/**
 * serveFile(): the I/O shell over `planResponse`. It opens and stats the file, asks the core what
 * to send, and writes exactly that, with backpressure, stopping when the client goes away.
 *
 * File metadata calls (open, fstat, close) and reads of small bodies are synchronous, as in nginx:
 * on a local disk they take microseconds, far less than a trip through libuv's thread pool. Large
 * bodies are read asynchronously in 256 KiB positional reads, one ahead of the one being written,
 * into buffers shared by all responses, so a big download neither blocks the event loop nor
 * allocates per chunk, and a client that stops reading holds one chunk.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { contentType } from 'mime-types';
import {
  type BodyPart,
  type PlanOptions,
  planResponse,
  type RequestFacts,
} from '../core/respond.js';
import {
  cut,
  endWith,
  isClosed,
  isHttp2,
  needsDrain,
  type Request,
  type Response,
  writeChunk,
} from './exchange.js';

export interface ServeFileOptions {
  /** Most range-specs honoured in one Range header; more and the whole file is sent. @default 100 */
  maxRanges?: number;
  /** A Cache-Control value for file responses. @default none */
  cacheControl?: string;
  /** Content-Type to send; looked up from the file extension when absent. */
  type?: string;
}

/**
 * Positional reads for big bodies: a client that stops reading leaves at most one such chunk
 * queued in the server, so this bounds what a stalled response holds.
 */
const CHUNK = 256 * 1024;
/**
 * The same for an HTTP/2 stream: a connection carries up to 100 streams (server.ts), so a client
 * stalling them all holds 100 chunks; a smaller chunk keeps that near what one HTTP/1.1
 * connection can hold (6.4 MiB, as nginx's http2 output buffers allow).
 */
const H2_CHUNK = 64 * 1024;
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
  req: Request,
  res: Response,
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
  req: Request,
  res: Response,
  file: OpenFile,
  type: string,
  options: ServeFileOptions = {},
): Promise<void> {
  const { fd, stats } = file;
  const plan = planResponse(
    requestFacts(req),
    {
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
      type,
      ...(file.etag === undefined ? {} : { etag: file.etag }),
    },
    planOptionsFor(options),
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
    endWith(res, body);
    return;
  }
  res.writeHead(plan.status, plan.headers);
  if (await writeLargeBody(res, fd, plan.body)) res.end();
}

/** What the core's planResponse() needs of a request: its method and the fields it reads. */
export function requestFacts(req: Request): RequestFacts {
  const h = req.headers;
  return {
    method: req.method ?? 'GET',
    headers: {
      range: h.range,
      ifRange: joined(h['if-range']),
      ifMatch: h['if-match'],
      ifNoneMatch: h['if-none-match'],
      ifModifiedSince: h['if-modified-since'],
      ifUnmodifiedSince: h['if-unmodified-since'],
    },
  };
}

/** The plan options of a serving configuration (a fresh multipart boundary per response). */
export function planOptionsFor(options: ServeFileOptions): PlanOptions {
  const planOptions: PlanOptions = { boundary: randomBoundary };
  if (options.maxRanges !== undefined) planOptions.maxRanges = options.maxRanges;
  if (options.cacheControl !== undefined) planOptions.cacheControl = options.cacheControl;
  return planOptions;
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

function readAsync(
  fd: number,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, offset, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

interface Slice {
  start: number;
  end: number;
}

/** The body in write order: literal bytes, and file slices of at most `chunk` bytes. */
function* bodyItems(parts: BodyPart[], chunk: number): Generator<Uint8Array | Slice> {
  for (const part of parts) {
    if ('bytes' in part) yield part.bytes;
    else {
      for (let at = part.start; at <= part.end; at += chunk) {
        yield { start: at, end: Math.min(part.end, at + chunk - 1) };
      }
    }
  }
}

/**
 * Buffers of CHUNK bytes that no response holds now, shared by all responses (a response that must
 * wait for its client gives its read-ahead back here instead of sitting on it).
 */
const idle = new Map<number, Buffer[]>([
  [CHUNK, []],
  [H2_CHUNK, []],
]);
const IDLE_MAX = 16;
function takeBuffer(size: number): Buffer {
  return idle.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}
function giveBuffer(buf: Buffer) {
  const pool = idle.get(buf.length);
  if (pool !== undefined && pool.length < IDLE_MAX) pool.push(buf);
}

/**
 * Resolves true once the response can take more data, false if it closed first (or, with
 * `withinMs`, if it still cannot after that long).
 */
export function writable(res: Response, withinMs?: number): Promise<boolean> | boolean {
  if (isClosed(res)) return false;
  if (!needsDrain(res)) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', drained);
      res.off('close', closed);
      if (timer !== undefined) clearTimeout(timer);
      resolve(ok);
    };
    const drained = () => done(true);
    const closed = () => done(false);
    const timer = withinMs === undefined ? undefined : setTimeout(closed, withinMs);
    res.on('drain', drained);
    res.on('close', closed);
  });
}

/**
 * How long a read-ahead is held for a socket that has not taken the previous chunk yet: a client
 * that is only a moment behind keeps its read (giving it back at once would read it twice); one
 * that has stopped reading holds only its stuck chunk after this.
 */
const READ_AHEAD_GRACE_MS = 100;

/**
 * Writes the body parts in order. While one chunk is written, the next is read (the read overlaps
 * the write); if the client has not taken the chunk written by the time the next one is read, that
 * read-ahead is given back and read again once the client drains. So a client that stops reading
 * makes its response hold one chunk (the one the socket is stuck on), and the server's send
 * timeout (server.ts) cuts it. Returns false if the client went away or the file shrank.
 */
async function writeLargeBody(res: Response, fd: number, parts: BodyPart[]): Promise<boolean> {
  // The parts in order, file slices cut into reads of at most CHUNK bytes, made as they are
  // needed (a list of every slice of an 8 GiB file would cost more than the chunk itself).
  const chunk = isHttp2(res) ? H2_CHUNK : CHUNK;
  const items = bodyItems(parts, chunk);
  let item = items.next();
  let ahead: Promise<{ buf: Buffer; n: number } | undefined> | undefined;
  const readSlice = async (slice: Slice) => {
    const buf = takeBuffer(chunk);
    const want = slice.end - slice.start + 1;
    try {
      let n = 0;
      while (n < want) {
        const got = await readAsync(fd, buf, n, want - n, slice.start + n);
        if (got === 0) break; // end of file: shorter than planned
        n += got;
      }
      return { buf, n };
    } catch (error) {
      giveBuffer(buf);
      throw error;
    }
  };
  try {
    while (!item.done) {
      const current = item.value;
      item = items.next();
      if (!(await writable(res))) return false;
      if (current instanceof Uint8Array) {
        writeChunk(res, current);
        continue;
      }
      const read = await (ahead ?? readSlice(current));
      ahead = undefined;
      if (read === undefined) return false;
      const { buf, n } = read;
      if (isClosed(res)) {
        giveBuffer(buf);
        return false;
      }
      if (n < current.end - current.start + 1) {
        // The file is shorter than when it was stat'ed: the promised Content-Length cannot be met.
        giveBuffer(buf);
        cut(res);
        return false;
      }
      writeChunk(res, n === chunk ? buf : buf.subarray(0, n), () => giveBuffer(buf));
      const following = item.done ? undefined : item.value;
      if (following !== undefined && !(following instanceof Uint8Array)) {
        const reading = readSlice(following);
        // Read ahead only while the client keeps up: a read that finds the socket still full
        // for READ_AHEAD_GRACE_MS is given back, and read again once it drains.
        ahead = reading.then(async (result) => {
          if (isClosed(res) || (await writable(res, READ_AHEAD_GRACE_MS))) return result;
          giveBuffer(result.buf);
          return (await writable(res)) ? readSlice(following) : undefined;
        });
      }
    }
    return !isClosed(res);
  } finally {
    if (ahead !== undefined) {
      ahead.then(
        (read) => read && giveBuffer(read.buf),
        () => {},
      );
    }
  }
}
