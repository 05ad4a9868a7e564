/**
 * An append to an upload in an S3 bucket (S3UploadStore.append()): the body through one part
 * buffer into the upload's multipart upload, each full buffer a part (claimed, uploaded, counted),
 * the rest a new tail object. Every change of the state is a swap: a writer whose swap fails lost a
 * race with another request (maybe on another server), and nothing more of its body counts.
 */

import { Readable } from 'node:stream';
import type { UploadRecord } from '../../core/upload/record.js';
import {
  claimMs,
  countPart,
  isS3UploadBusy,
  keepsAppendPlace,
  MAX_PARTS,
  partSizeFor,
  type S3Multipart,
  type S3Part,
  type S3UploadState,
  withTail,
} from '../../core/upload/s3-state.js';
import { droppedReads } from '../dead-reads.js';
import { chunkChecksum, discardedAs } from '../uploads/chunk-checksum.js';
import {
  type Appended,
  type AppendOptions,
  StoreUnavailableError,
} from '../uploads/store-types.js';
import { givePartBuffer, takePartBuffer } from './s3-budget.js';
import { Conflict, isMissing, md5, type PartUpload } from './s3-objects.js';
import { newRev, type S3UploadBucket } from './s3-upload-bucket.js';

/**
 * Appends the body at `offset`. It reads the state first: another request's append since the
 * caller's load() is a conflict at once. The tail's bytes and the body go through one part buffer;
 * each full buffer becomes the next part (claimed, uploaded, counted: core/upload/s3-state.ts); at
 * the end the rest is a new tail object, counted by a swap. Past `limit`: 'too-large', keeping what
 * fits; a stop (`signal`, the body's failure): 'interrupted', keeping what arrived. With a
 * checksum, full buffers are staged as objects and become parts only once the whole body matched;
 * on a mismatch nothing of the body counts.
 */
export async function appendToS3(
  bucket: S3UploadBucket,
  record: UploadRecord,
  offset: number,
  body: AsyncIterable<Uint8Array>,
  options: AppendOptions,
): Promise<{ record: UploadRecord; appended: Appended }> {
  const { objects } = bucket;
  const now = () => bucket.options.now();
  const id = record.id;
  // The state load() read for this request a moment ago: every change is a swap over its ETag, so
  // a state changed since only makes the first swap fail (and read again).
  const read = bucket.takeKeptState(id) ?? (await bucket.readState(id));
  if (read === undefined || read.state.record.status !== 'active') {
    return { record, appended: { kind: 'conflict', offset } };
  }
  let { state, etag } = read;
  if (state.offset !== offset || isS3UploadBusy(state, Date.now(), { takeover: true })) {
    return { record: state.record, appended: { kind: 'conflict', offset: state.offset } };
  }
  const token = newRev();
  const oldTail = state.tail;
  // A tail above the part size (a length declared after it was written) is one part.
  const partSize = Math.max(partSizeFor(state.record.length, offset), oldTail?.size ?? 0);
  let buffer = takePartBuffer(partSize);
  let fill = 0;
  /** Where the next part starts in the upload (the old tail's bytes are the first part's). */
  let partStart = offset - (oldTail?.size ?? 0);
  /** With an unknown length, the part grows past 16 GiB (partSizeFor()): a larger buffer. */
  const grow = () => {
    partStart += buffer.length;
    const want = partSizeFor(state.record.length, partStart);
    if (want > buffer.length) buffer = Buffer.allocUnsafe(want);
  };
  /** The old tail's bytes go first into the buffer, once the body brings a byte. */
  let tailRead = oldTail === null;
  /** The old tail's bytes are in a counted part: its object can go. */
  let oldTailCounted = false;
  /** Full buffers of a body with a checksum, until it matched. */
  const staged: { key: string; size: number }[] = [];
  let newTail: S3UploadState['tail'] = null;
  const checksum = options.checksum;
  const hash = chunkChecksum(checksum);
  const { signal, limit, declared } = options;
  /** The part being sent while its bytes arrive, and its number. */
  let streaming: { part: PartUpload; n: number } | undefined;
  /** Body bytes in the buffer or in parts so far. */
  let bodyIn = 0;

  /**
   * Swaps the state for `change(state)`; when another request changed it meanwhile without
   * taking this append's place (a deferred length), once more on the fresh state.
   */
  const swap = async (change: (s: S3UploadState) => S3UploadState) => {
    for (;;) {
      const next = change(state);
      const written = await bucket.swapState(next, etag);
      if (written !== undefined) {
        state = next;
        etag = written;
        return;
      }
      const fresh = await bucket.readState(id);
      if (fresh === undefined || !keepsAppendPlace(fresh.state, state)) throw new Conflict();
      state = fresh.state;
      etag = fresh.etag;
    }
  };
  const readTail = async () => {
    tailRead = true;
    if (oldTail === null) return;
    try {
      fill = await objects.readInto(oldTail.key, buffer, oldTail.size);
    } catch (error) {
      // Another request counted it in a part and removed it.
      if (isMissing(error)) throw new Conflict();
      throw error;
    }
  };
  /** Claims the next part number (making the multipart upload at the first). */
  const claim = async (size: number) => {
    if (isS3UploadBusy(state, Date.now(), { token, takeover: true })) throw new Conflict();
    const n = state.parts.length + 1;
    if (n > MAX_PARTS) throw new Error(`upload ${id} would need more than ${MAX_PARTS} parts`);
    let multipart = state.multipart;
    let made: S3Multipart | undefined;
    if (multipart === null) {
      made = await bucket.createMultipart(state.record);
      multipart = made;
    }
    const mine = { n, token, until: Date.now() + claimMs(size) };
    try {
      await swap((s) => ({ ...s, multipart, claim: mine }));
    } catch (error) {
      if (made !== undefined) await objects.abort(made).catch(() => {});
      throw error;
    }
    return { n, multipart };
  };
  /** Counts part `part`, ending the claim. */
  const count = async (part: S3Part) => {
    await swap((s) => countPart(s, part, now()));
    if (oldTail !== null && !oldTailCounted) {
      oldTailCounted = true;
      await objects.delete(oldTail.key).catch(() => {});
    }
  };
  /**
   * Whether the part being filled can go to the store while its bytes arrive: the body declared
   * (Content-Length) all the bytes it still needs, and no checksum has to match first. The part
   * request then ends with the body's bytes (the receive and the store's write overlap); a body
   * that stops short aborts it, and what arrived becomes the tail as in the buffered case.
   */
  const canStream = () =>
    streaming === undefined &&
    checksum === undefined &&
    declared !== undefined &&
    Math.min(declared, limit) - bodyIn >= buffer.length - fill;
  /** Claims the next part and starts its request with the bytes in the buffer so far. */
  const startStream = async () => {
    const { n, multipart } = await claim(buffer.length);
    const part = objects.streamPart(multipart, n, buffer.length);
    streaming = { part, n };
    // The old tail's bytes (or, for a part filled before it was sent, all of them), first.
    if (fill > 0) part.write(buffer.subarray(0, fill));
    return streaming;
  };
  const stopStream = () => {
    streaming?.part.abort();
    streaming = undefined;
  };
  /** The full buffer as the next part: staged while a checksum must match, else uploaded. */
  const uploadPart = async () => {
    const size = fill;
    if (checksum !== undefined) {
      const key = bucket.freshKey(id, 'stage');
      await objects.put(key, buffer.subarray(0, size));
      staged.push({ key, size });
      fill = 0;
      grow();
      return;
    }
    // A part not streamed while it filled is sent now, whole.
    const { part, n } = streaming ?? (await startStream());
    streaming = undefined;
    const partEtag = await part.finish();
    fill = 0;
    await count({ n, etag: partEtag, size });
    grow();
  };

  let tooLarge = false;
  let failure: unknown;
  /** A failure of the store (or a conflict), told apart from the body's. */
  let storeFailure: { error: unknown } | undefined;
  const step = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      storeFailure = { error };
      throw error;
    }
  };
  let taken = 0;
  const stop = () => {
    if (body instanceof Readable) body.destroy(signal.reason as Error);
  };
  try {
    try {
      if (signal.aborted) throw signal.reason;
      signal.addEventListener('abort', stop, { once: true });
      const chunks = body instanceof Readable ? body.iterator({ destroyOnReturn: false }) : body;
      for await (const chunk of chunks) {
        if (signal.aborted) throw signal.reason;
        options.onBytes?.(chunk.length);
        const room = limit - taken;
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (piece.length > 0 && !tailRead) await step(readTail);
        taken += piece.length;
        hash?.update(piece);
        let at = 0;
        while (at < piece.length) {
          if (fill === buffer.length) await step(uploadPart);
          if (canStream()) await step(startStream);
          const n = Math.min(piece.length - at, buffer.length - fill);
          buffer.set(piece.subarray(at, at + n), fill);
          streaming?.part.write(buffer.subarray(fill, fill + n));
          fill += n;
          at += n;
          bodyIn += n;
        }
        droppedReads(piece.length);
        if (fill === buffer.length) await step(uploadPart);
        if (chunk.length > room) {
          tooLarge = true;
          break;
        }
      }
      if (signal.aborted) throw signal.reason;
    } catch (error) {
      if (storeFailure !== undefined) throw storeFailure.error;
      failure = error;
    } finally {
      signal.removeEventListener('abort', stop);
      // A part the body did not fill: nothing of it is stored (its bytes become the tail).
      stopStream();
    }
    if (checksum !== undefined) {
      if (!hash?.matched({ failure, tooLarge })) {
        // tus 1.0.0 §Checksum: "the Server [...] MUST discard the chunk and not update the offset".
        for (const s of staged) await objects.delete(s.key).catch(() => {});
        const kind = discardedAs({ failure, tooLarge });
        return { record: state.record, appended: { kind, offset: state.offset } };
      }
      // The body matched: its staged parts become parts, copied in the store.
      while (staged.length > 0) {
        const s = staged[0] as { key: string; size: number };
        const { n, multipart } = await claim(s.size);
        const partEtag = await objects.copyPart(multipart, n, s.key, s.size);
        await count({ n, etag: partEtag, size: s.size });
        staged.shift();
        await objects.delete(s.key).catch(() => {});
      }
    }
    // After a counted part and nothing more, the state is right as it is (one swap less).
    const settled = fill === 0 && state.tail === null && state.claim === null;
    if ((taken > 0 || oldTailCounted) && !settled) {
      if (isS3UploadBusy(state, Date.now(), { token, takeover: true })) throw new Conflict();
      if (fill > 0) {
        const key = bucket.freshKey(id, 'tail');
        const written = await objects.put(key, buffer.subarray(0, fill));
        newTail = { key, size: fill, etag: written ?? md5(buffer.subarray(0, fill)) };
      }
      const tail = newTail;
      await swap((s) => withTail(s, tail, now()));
      if (oldTail !== null && !oldTailCounted) await objects.delete(oldTail.key).catch(() => {});
    }
  } catch (error) {
    stopStream();
    if (!(error instanceof Conflict)) {
      // The store failed. A part upload that timed out may still land: its claim stays until it
      // runs out; after a failure the store answered, the number is free again.
      if (error instanceof StoreUnavailableError && error.status === 502) {
        await bucket.endClaim(id, token);
      }
      throw error;
    }
    // Another request changed the upload: nothing more of this body counts.
    for (const s of staged) await objects.delete(s.key).catch(() => {});
    if (newTail !== null) await objects.delete(newTail.key).catch(() => {});
    const current = await bucket.endClaim(id, token);
    const at = current?.offset ?? state.offset;
    return {
      record: current?.record ?? state.record,
      appended: { kind: 'conflict', offset: at },
    };
  }
  const next = { ...state.record, durable: state.offset };
  const kind = tooLarge ? 'too-large' : failure !== undefined ? 'interrupted' : 'stored';
  // Every part request of this body has finished: the buffer can serve the next append.
  givePartBuffer(buffer);
  return { record: next, appended: { kind, offset: state.offset } };
}
