/**
 * A request body written to an upload's data file: in batches (writev), the next batch read while
 * the last is written, bounded by a limit, stopped by a signal. What arrived before a stop is
 * written all the same: those bytes are kept.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

export interface BodyWriteOptions {
  /** The most bytes to take; the body past them is not read. */
  limit: number;
  /** Stops the body (destroys it). */
  signal: AbortSignal;
  /** Called with each piece's size as it arrives. */
  onBytes?: ((count: number) => void) | undefined;
}

/**
 * Writes the body at `offset` in batches, reading the next batch while the last is written; at
 * most `limit` bytes. True when the body went past the limit (the rest is left unread, not
 * destroyed, so a 413 can still be sent). An abort of `options.signal` destroys the body.
 */
export async function writeBody(
  fh: FileHandle,
  offset: number,
  body: AsyncIterable<Uint8Array>,
  options: BodyWriteOptions,
  onPiece: (piece: Uint8Array) => void,
): Promise<boolean> {
  const { signal, limit } = options;
  const stop = () => {
    if (isReadable(body)) body.destroy(signal.reason as Error);
  };
  if (signal.aborted) throw signal.reason;
  signal.addEventListener('abort', stop, { once: true });
  let position = offset;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    const buffers = batch;
    const size = batchBytes;
    batch = [];
    batchBytes = 0;
    const at = position;
    position += size;
    writing = writeAll(fh, buffers, at, size);
    // Awaited by the next flush or at the end; until then a failure (ENOSPC) must not count as an
    // unhandled rejection, which would end the whole server process.
    writing.catch(() => {});
  };
  let taken = 0;
  try {
    const chunks = isReadable(body) ? body.iterator({ destroyOnReturn: false }) : body;
    for await (const chunk of chunks) {
      if (signal.aborted) throw signal.reason;
      options.onBytes?.(chunk.length);
      const room = limit - taken;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (piece.length > 0) {
        taken += piece.length;
        onPiece(piece);
        batch.push(piece);
        batchBytes += piece.length;
        if (batchBytes >= BATCH_BYTES) await flush();
      }
      if (chunk.length > room) return true;
    }
    if (signal.aborted) throw signal.reason;
    return false;
  } finally {
    signal.removeEventListener('abort', stop);
    // What arrived is written even when the body stopped early: those bytes are kept.
    if (batchBytes > 0) await flush();
    await writing;
  }
}

const BATCH_BYTES = 256 * 1024;

/** writev until every byte is written (a short write continues where it stopped). */
async function writeAll(
  fh: FileHandle,
  buffers: Uint8Array[],
  at: number,
  size: number,
): Promise<void> {
  let done = 0;
  let rest = buffers;
  while (done < size) {
    const { bytesWritten } = await fh.writev(rest, at + done);
    done += bytesWritten;
    if (done < size) rest = [Buffer.concat(rest).subarray(bytesWritten)];
  }
}

function isReadable(source: AsyncIterable<Uint8Array>): source is Readable {
  return source instanceof Readable;
}
