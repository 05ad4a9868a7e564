/**
 * The steps every protocol shares once its planner said yes: hold an upload's lock while working on
 * it (a newer request cuts this one off), store a body under the minimum-speed watch, and complete
 * an upload whose every byte is there.
 */
import type { UploadRecord } from '../../core/upload/record.js';
import { isExpired } from '../../core/upload/record.js';
import { continueBody, type Request } from '../exchange.js';
import { type UploadContext, watchSpeed } from './context.js';
import type { Appended, Loaded } from './file-store.js';
import type { Release } from './locks.js';

/** An upload's lock, held by one request, with the signal that says a newer request took over. */
export interface Held {
  release: Release;
  controller: AbortController;
}

/** Takes the lock of upload `id` (cutting off its holder); undefined if a newer request won. */
export async function hold(context: UploadContext, id: string): Promise<Held | undefined> {
  const controller = new AbortController();
  const release = await context.locks.acquire(id, () =>
    controller.abort(new Error('a newer request for this upload took over')),
  );
  return release === undefined ? undefined : { release, controller };
}

/** What the planners see of an upload: expired by the clock counts as expired before the sweep. */
export function statusOf(context: UploadContext, loaded: Loaded): UploadRecord['status'] {
  const r = loaded.record;
  if (isExpired(r, context.now(), context.expires)) return 'expired';
  // A complete partial upload waits for its final; it expires like an unfinished one.
  if (
    r.status === 'complete' &&
    r.concat?.kind === 'partial' &&
    r.activity + context.expires <= context.now()
  ) {
    return 'expired';
  }
  return r.status;
}

/** Stores the request body at the upload's offset (file-store.ts append()), watched for speed. */
export async function appendBody(
  context: UploadContext,
  req: Request,
  loaded: Loaded,
  append: { limit: number; checksum?: { algorithm: string; digest: Uint8Array } | undefined },
  held: Held,
): Promise<{ record: UploadRecord; appended: Appended }> {
  continueBody(req);
  const watch = watchSpeed(context, held.controller);
  try {
    return await context.store.append(loaded.record, loaded.offset, req, {
      limit: append.limit,
      checksum: append.checksum,
      declared: declaredLength(req),
      signal: held.controller.signal,
      onBytes: watch.onBytes,
    });
  } finally {
    watch.stop();
  }
}

/** The body's Content-Length, if it has one (and no Transfer-Encoding). */
function declaredLength(req: Request): number | undefined {
  const value = req.headers['content-length'];
  if (typeof value !== 'string' || req.headers['transfer-encoding'] !== undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

export type Completion =
  | { kind: 'not-yet'; record: UploadRecord }
  | { kind: 'complete'; record: UploadRecord }
  | { kind: 'exists' | 'blocked'; reason: string };

/** Completes the upload when `offset` reached its length (and it is not complete already). */
export async function completeIfDone(
  context: UploadContext,
  record: UploadRecord,
  offset: number,
): Promise<Completion> {
  if (record.status !== 'active' || record.length === null || offset !== record.length) {
    return { kind: 'not-yet', record };
  }
  const completion = await context.store.complete(record);
  // A target that appeared meanwhile (or a folder on the way that leads out) can never be
  // replaced: the upload is terminated, so its resource no longer says offset = length (which a
  // tus client reads as done); the client is told 409 now, and 410 if it asks again.
  if (completion.kind !== 'complete') await context.store.end(record, 'terminated');
  return completion;
}
