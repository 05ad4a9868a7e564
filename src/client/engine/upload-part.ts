/**
 * One upload resource brought to its length: ask the server for its offset (HEAD) when it is not
 * known, then PATCH slices of the file from there (sized by core/upload/chunk-size.ts: growing
 * with the rate, halved by a 413), each streamed from disk (and throttled), until the server's
 * `Upload-Offset` is the length. core/upload/client-plan.ts decides what each answer means; failures go through the shared Retries (the count restarts whenever the
 * server's offset advances). Used by tus (each partial upload, or the one upload) and by the IETF
 * draft (the one upload resource).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Agent } from 'node:http';
import type { Writable } from 'node:stream';
import { parseRetryAfter } from '../../core/backoff.js';
import { formatBytes } from '../../core/format-bytes.js';
import {
  type ChunkSizing,
  chunkWithin,
  firstChunkSize,
  sizeAfterAppend,
  sizingAfterTooLarge,
  withServerLimits,
} from '../../core/upload/chunk-size.js';
import {
  type AnswerAction,
  answerAction,
  type StatFacts,
  statVerdict,
} from '../../core/upload/client-plan.js';
import { FileSystemError, HttpStatusError, NetworkError, ProtocolError } from '../../errors.js';
import { sendUploadRequest, type UploadAnswer } from '../transport/upload-request.js';
import type { Retries } from './retry.js';
import { StatusFailure } from './stops.js';
import type { Throttle } from './throttle.js';

/** The upload is gone on the server (404, 410): the run creates a new one and says so. */
export class UploadGone extends HttpStatusError {}

/** A chunk the server discarded (460): retried like a network failure. */
export class ChunkRejected extends NetworkError {}

/**
 * The file changed during the run (its size, mtime, inode or ctime, or it was removed, or a read
 * came up short): the run stops at once, never retried, with the state kept; the next run sees
 * the change, terminates the old upload and starts anew.
 */
export class FileChanged extends FileSystemError {}

/** What a part reports for the progress line. */
export interface PartMeter {
  /** Bytes of the part the server confirmed. */
  confirmed: number;
  /** Bytes of the request in flight sent so far. */
  inflight: number;
  /** Bytes sent by this call, retried ones included. */
  sent: number;
  /** The offset the server held when this call first asked (undefined until then). */
  resumed?: number;
}

export interface PartContext {
  protocol: 'tus' | 'ietf';
  /** The file's real path. */
  file: string;
  /** FILE as the caller gave it, for messages. */
  name: string;
  /** The file's size, mtime, inode and ctime when the run took its facts: it must keep them. */
  facts: StatFacts;
  /** The PATCH sizes (core/upload/chunk-size.ts), shared by the parts: a 413 or the server's
   * Upload-Limit seen by one part bounds the others too. */
  sizing: { current: ChunkSizing };
  /** tus --chunk-checksum: the algorithm of `Upload-Checksum`. */
  checksum: 'sha256' | 'sha1' | undefined;
  /** Authorization and the user's fields. */
  headers: Record<string, string>;
  stallTimeout: number;
  throttle: Throttle | undefined;
  signal: AbortSignal;
  agent: Agent;
  retries: Retries;
  /** Says something worth showing a user (a smaller PATCH size after a 413). */
  notice: (message: string) => void;
}

/** The version field every request of the protocol carries. */
export function protocolHeaders(protocol: 'tus' | 'ietf'): Record<string, string> {
  return protocol === 'tus'
    ? { 'Tus-Resumable': '1.0.0' }
    : { 'Upload-Draft-Interop-Version': '9' };
}

/**
 * Size of each of the two buffers a part reads the file into and sends from, allocated once per
 * part and reused by all its PATCHes (peak RSS stays flat). Small on purpose: a buffer read into
 * again at once stays in the CPU cache, so the kernel's two copies (page cache to buffer, buffer to
 * socket) cost less than with larger ones; 1 GiB took ~0.35 s less CPU than with 128 KiB.
 */
const SLICE_BUFFER = 64 * 1024;

/** The two reused buffers of one part: see SLICE_BUFFER. */
function sliceBuffers(): Buffer[] {
  return [Buffer.allocUnsafe(SLICE_BUFFER), Buffer.allocUnsafe(SLICE_BUFFER)];
}

/**
 * The writes of one request body. `write()` resolves when `out` accepted the chunk, or failed, or
 * closed first (a request's write callback may never come once its socket is gone); `failed` then
 * holds why, for the writer to throw. Its promises never reject, so none needs a catch handler,
 * and one 'close' listener serves the whole body: a listener added and removed, and a promise
 * more, for each of the 16,384 chunks of a GiB were a visible part of the client's CPU.
 */
function bodyWriter(out: Writable) {
  const pending = new Set<() => void>();
  const state: { failed: Error | undefined } = {
    failed: out.destroyed ? new Error('the request closed') : undefined,
  };
  const onClose = (): void => {
    state.failed ??= new Error('the request closed');
    for (const settle of pending) settle();
    pending.clear();
  };
  out.once('close', onClose);
  return {
    state,
    write(chunk: Buffer): Promise<void> {
      return new Promise((resolve) => {
        if (state.failed !== undefined) return resolve();
        pending.add(resolve);
        out.write(chunk, (error) => {
          pending.delete(resolve);
          if (error) state.failed ??= error;
          resolve();
        });
      });
    },
    done(): void {
      out.off('close', onClose);
    },
  };
}

function fileChanged(ctx: PartContext, why: string): FileChanged {
  return new FileChanged(
    `Cannot upload "${ctx.name}": it changed during the upload (${why}); run the same command again to upload the new content`,
  );
}

/** Throws FileChanged when the open file's stat is no longer the run's (one fstat). */
function checkUnchanged(fd: number, ctx: PartContext): void {
  const verdict = statVerdict(ctx.facts, fstatSync(fd));
  if (verdict.kind === 'changed') throw fileChanged(ctx, verdict.why);
}

/**
 * Writes bytes [start, end) of `file` into `out` through the part's two buffers: a buffer is read
 * into again only once its last write completed, so one can be read while the other is being
 * sent. Each piece passes the throttle first.
 *
 * A file changed during the run never reaches the server whole: its stat (statVerdict) is checked
 * before the first byte of every request and, when this request `completes` the part, once more
 * after its last bytes were read and before they are written; a short read stops it too.
 *
 * The reads are synchronous, as serve-file.ts's small bodies: one of SLICE_BUFFER bytes from the
 * page cache takes microseconds, far less than a trip through libuv's thread pool and back (which
 * cost ~0.5 s of CPU per GiB sent: futex and eventfd wake-ups, a promise per read, and a buffer
 * filled on another core). The price: a read from a cold, slow disk holds the event loop for as
 * long as that one read takes, and while the socket takes every write at once, a whole PATCH
 * (8 MiB: a few milliseconds) may go out before the event loop turns.
 */
async function writeSlice(
  out: Writable,
  file: string,
  start: number,
  end: number,
  completes: boolean,
  buffers: Buffer[],
  ctx: PartContext,
  meter: PartMeter,
): Promise<void> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fileChanged(ctx, code === 'ENOENT' ? 'it was removed' : `it cannot be read: ${code}`);
  }
  const writes: (Promise<void> | undefined)[] = buffers.map(() => undefined);
  const writer = bodyWriter(out);
  try {
    checkUnchanged(fd, ctx);
    let pos = start;
    for (let k = 0; pos < end; k++) {
      const i = k % buffers.length;
      const buffer = buffers[i] as Buffer;
      await writes[i];
      if (writer.state.failed !== undefined) throw writer.state.failed;
      const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, end - pos), pos);
      if (bytesRead === 0) {
        checkUnchanged(fd, ctx);
        throw fileChanged(ctx, `it ended at ${pos} bytes, expected ${ctx.facts.size}`);
      }
      if (ctx.throttle !== undefined) await ctx.throttle.take(bytesRead, ctx.signal);
      if (completes && pos + bytesRead === end) checkUnchanged(fd, ctx);
      writes[i] = writer.write(buffer.subarray(0, bytesRead));
      meter.inflight += bytesRead;
      meter.sent += bytesRead;
      pos += bytesRead;
    }
    await Promise.all(writes);
    if (writer.state.failed !== undefined) throw writer.state.failed;
  } catch (error) {
    // The request ends with this error (a FileChanged stays a FileChanged, never a retried network
    // error), and its 'close' lets go of a write the server may never take.
    if (!out.destroyed) out.destroy(error as Error);
    throw error;
  } finally {
    // No buffer is read into again (the next PATCH) while a write may still hold it.
    await Promise.all(writes);
    writer.done();
    closeSync(fd);
  }
}

/**
 * The digest of bytes [start, end) of `file`, base64 (tus §Checksum), read through one of the
 * part's buffers (idle between two PATCHes). Read asynchronously, unlike writeSlice: nothing
 * waits between two reads here, so synchronous ones would hold the event loop for the whole slice.
 */
async function sliceDigest(
  file: string,
  start: number,
  end: number,
  algorithm: string,
  buffer: Buffer,
) {
  const hash = createHash(algorithm);
  const fh = await open(file, 'r');
  try {
    for (let pos = start; pos < end; ) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, end - pos), pos);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('base64');
}

/**
 * The draft's append limits from an answer's `Upload-Limit` (draft-12 §Limits: a Dictionary whose
 * `min-append-size` and `max-append-size` are Integers of bytes); none when the field is absent or
 * not a Dictionary. The parser is loaded only when a server sends the field (ranged serve does
 * not): it is a tenth of the put command's start-up.
 */
export async function appendLimits(value: string | undefined): Promise<{
  minAppend?: number | undefined;
  maxAppend?: number | undefined;
}> {
  if (value === undefined) return {};
  const { parseDictionary } = await import('structured-headers');
  try {
    const dict = parseDictionary(value);
    const integer = (name: string): number | undefined => {
      const item = dict.get(name)?.[0];
      return typeof item === 'number' && Number.isSafeInteger(item) ? item : undefined;
    };
    return { minAppend: integer('min-append-size'), maxAppend: integer('max-append-size') };
  } catch {
    return {};
  }
}

/** Refusals whose message already says what to do (the token, the name taken, the size). */
const SAID = new Set([401, 403, 409, 413]);

/**
 * The error of a fatal answer: a ProtocolError when the answer breaks the protocol (exit 5, as
 * `get`), else an HttpStatusError (exit 3); other refusals than SAID's carry the server's own
 * reason when it gave one (a 400's "bad filename: …").
 */
export function fatalError(
  message: string,
  action: Extract<AnswerAction, { kind: 'fatal' }>,
  answer: UploadAnswer,
  url: string,
): Error {
  const own = answer.reason === undefined || SAID.has(answer.status) ? undefined : answer.reason;
  const text = own === undefined ? message : `${message}: ${own}`;
  if (action.broken === true) return new ProtocolError(text);
  return new HttpStatusError(text, { status: answer.status, url });
}

function failure(
  url: string,
  action: Exclude<AnswerAction, { kind: 'offset' }>,
  answer: UploadAnswer,
): Error {
  const message = `Cannot upload to "${url}": ${action.why}`;
  if (action.kind === 'start-over') return new UploadGone(message, { status: answer.status, url });
  if (action.kind === 'fatal') return fatalError(message, action, answer, url);
  if (answer.status === 460) return new ChunkRejected(message);
  const retryAfter = parseRetryAfter(answer.headers['retry-after'], Date.now());
  return new StatusFailure(message, { status: answer.status, url }, retryAfter);
}

/**
 * Brings the upload at `url` (for bytes [start, start + length) of the file) to its length.
 * `known`: the server's offset when it is known (0 right after a creation), else it is asked.
 * Resolves when the server confirmed every byte; rejects with UploadGone, FileChanged, an
 * HttpStatusError (fatal), the retries' last error, or the signal's reason.
 */
export async function completePart(
  part: { url: string; start: number; length: number },
  known: number | undefined,
  ctx: PartContext,
  meter: PartMeter,
): Promise<void> {
  const base = { ...ctx.headers, ...protocolHeaders(ctx.protocol) };
  const buffers = sliceBuffers();
  let offset = known;
  let size = firstChunkSize(ctx.sizing.current);
  // The draft's Upload-Limit, on any answer, bounds this part's next requests and the others'.
  const limitsFrom = async (answer: UploadAnswer): Promise<void> => {
    if (ctx.protocol !== 'ietf' || answer.headers['upload-limit'] === undefined) return;
    ctx.sizing.current = withServerLimits(
      ctx.sizing.current,
      await appendLimits(answer.headers['upload-limit']),
    );
    size = chunkWithin(size, ctx.sizing.current);
  };
  // Draft-12: the upload is done only when the server says `Upload-Complete: ?1` (a HEAD), or
  // took the completing append (`?1`) with a 2xx; tus: when the offset reaches the length.
  let complete = false;
  const send = (
    method: string,
    headers: Record<string, string>,
    body?: (out: Writable) => Promise<void>,
  ) =>
    sendUploadRequest({
      method,
      url: part.url,
      headers: { ...base, ...headers },
      ...(body === undefined ? {} : { body }),
      agent: ctx.agent,
      signal: ctx.signal,
      stallTimeout: ctx.stallTimeout,
    });
  for (;;) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    try {
      if (offset === undefined) {
        const answer = await send('HEAD', {});
        await limitsFrom(answer);
        const action = answerAction(answer, part.length);
        if (action.kind !== 'offset') throw failure(part.url, action, answer);
        offset = action.offset;
        complete = answer.headers['upload-complete'] === '?1';
        meter.confirmed = offset;
        meter.resumed ??= offset;
      }
      if (offset >= part.length && (ctx.protocol === 'tus' || complete)) return;
      const end = Math.min(part.length, offset + size);
      const headers: Record<string, string> = {
        'Upload-Offset': String(offset),
        'Content-Length': String(end - offset),
      };
      if (ctx.protocol === 'tus') {
        headers['Content-Type'] = 'application/offset+octet-stream';
        if (ctx.checksum !== undefined) {
          const digest = await sliceDigest(
            ctx.file,
            part.start + offset,
            part.start + end,
            ctx.checksum,
            buffers[0] as Buffer,
          );
          headers['Upload-Checksum'] = `${ctx.checksum} ${digest}`;
        }
      } else {
        headers['Content-Type'] = 'application/partial-upload';
        headers['Upload-Complete'] = end === part.length ? '?1' : '?0';
      }
      meter.inflight = 0;
      const from = part.start + offset;
      const to = part.start + end;
      const started = performance.now();
      const answer = await send('PATCH', headers, (out) =>
        writeSlice(out, ctx.file, from, to, end === part.length, buffers, ctx, meter),
      );
      const ms = performance.now() - started;
      meter.inflight = 0;
      await limitsFrom(answer);
      if (answer.status === 413) {
        // Too large for the server or a proxy before it: half the size, unless it was the least.
        const smaller = sizingAfterTooLarge(end - offset, ctx.sizing.current);
        if (smaller === undefined)
          throw new HttpStatusError(
            `Cannot upload to "${part.url}": the server refuses requests of ${formatBytes(end - offset)} (413)`,
            { status: 413, url: part.url },
          );
        ctx.sizing.current = smaller;
        size = chunkWithin(size, smaller);
        ctx.notice(
          `The server refused a request of ${formatBytes(end - offset)} (413): sending at most ${formatBytes(smaller.max)} per request`,
        );
        offset = undefined;
        continue;
      }
      const action = answerAction(answer, part.length, { start: offset, end });
      if (action.kind === 'ask-offset') {
        offset = undefined;
        continue;
      }
      if (action.kind !== 'offset') throw failure(part.url, action, answer);
      if (action.offset > offset) ctx.retries.progressed();
      if (action.offset === end)
        size = sizeAfterAppend(size, { bytes: end - offset, ms }, ctx.sizing.current);
      complete = end === part.length && action.offset === part.length;
      offset = action.offset;
      meter.confirmed = offset;
    } catch (error) {
      meter.inflight = 0;
      if (error instanceof UploadGone || error instanceof FileChanged || ctx.signal.aborted)
        throw error;
      await ctx.retries.after(error, ctx.signal);
      offset = undefined; // after any failure, the server says where to continue
    }
  }
}
