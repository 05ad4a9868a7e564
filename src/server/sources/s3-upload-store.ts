/**
 * The upload store of an `s3://BUCKET[/PREFIX]` source: every upload's state lives in the bucket,
 * so any ranged server on the same bucket continues any upload (tus and the IETF draft both). Its
 * objects, under the reserved prefix `PREFIX.ranged-uploads/`, are laid out in s3-upload-bucket.ts;
 * the state and the rules its writers follow are pure (core/upload/s3-state.ts).
 *
 * Servers share no lock: every change of a state is a compare-and-swap, a PutObject with
 * `If-Match: <the ETag read>` (a random `rev` in every state makes every write's ETag new), and
 * creations are `If-None-Match: *` (s3-objects.ts: how Ceph RGW answers them). A writer whose swap
 * fails lost a race with another request (maybe on another server): nothing more of its body
 * counts, and the protocols answer 409 (the client asks for the offset with HEAD and goes on from
 * there).
 *
 * Part numbers are never skipped (Ceph RGW 16.2 completes a multipart upload only when the list
 * names every part uploaded to it): a writer claims the next number in the state before it uploads
 * that part, and the swap that counts the part ends the claim (core/upload/s3-state.ts). While a
 * completion runs, an append is a conflict; an append takes over another writer's claim, and a
 * completion waits for it to end or run out (its server stopped). The append is s3-append.ts, the
 * completion s3-complete.ts.
 *
 * Memory: an append holds one part buffer and one piece of the body; the part buffers of one
 * process stay within MAX_APPEND_BYTES (s3-budget.ts).
 */
import type { S3Location } from '../../core/s3-location.js';
import { newRecord, type UploadRecord } from '../../core/upload/record.js';
import { roomVerdict } from '../../core/upload/room.js';
import {
  newS3UploadState,
  partSizeFor,
  type S3UploadState,
  YOUNG_RESERVATION_MS,
} from '../../core/upload/s3-state.js';
import {
  type Appended,
  type AppendOptions,
  type Completed,
  type Created,
  type FileStoreOptions,
  type Loaded,
  type NewUpload,
  StoreUnavailableError,
  type TargetCheck,
  type UploadStore,
} from '../uploads/store-types.js';
import type { StoreFactory } from '../uploads/uploads.js';
import { appendToS3 } from './s3-append.js';
import { appendBudget } from './s3-budget.js';
import type { S3Connection } from './s3-client.js';
import { completeInS3 } from './s3-complete.js';
import type { S3Objects } from './s3-objects.js';
import { isUploadId, newRev, S3UploadBucket } from './s3-upload-bucket.js';

/** Tries of a swap that only sets a field (declareLength, end) while others write. */
const SWAP_TRIES = 8;

export class S3UploadStore implements UploadStore {
  readonly conn: S3Connection;
  readonly location: S3Location;
  readonly options: FileStoreOptions;
  /** The reserved prefix's key: `PREFIX.ranged-uploads/`. */
  readonly base: string;
  readonly #bucket: S3UploadBucket;
  readonly #objects: S3Objects;
  /** Ids whose ended state is being cleaned up (load() finishing a cut-short end). */
  readonly #cleaning = new Set<string>();

  constructor(conn: S3Connection, location: S3Location, options: FileStoreOptions) {
    this.conn = conn;
    this.location = location;
    this.options = options;
    this.#bucket = new S3UploadBucket(conn, location, options);
    this.#objects = this.#bucket.objects;
    this.base = this.#bucket.base;
  }

  /** Nothing to prepare: the bucket is checked by the source; a failing store answers 502. */
  open(): void {}

  static isId(id: string): boolean {
    return isUploadId(id);
  }

  isId(id: string): boolean {
    return isUploadId(id);
  }

  checkTarget(target: readonly string[]): Promise<TargetCheck> {
    return this.#bucket.checkTarget(target);
  }

  /**
   * The upload `id`: its state (an active or complete partial upload), else its finished record.
   * A state whose upload ended but whose objects were not all removed yet (a server stopped
   * midway) is cleaned up in the background.
   */
  async load(id: string): Promise<Loaded | undefined> {
    if (!S3UploadStore.isId(id)) return undefined;
    // A finished record is written only once the upload is over.
    const known = this.#bucket.knownFinished(id);
    if (known !== undefined) {
      const length = known.length ?? known.durable;
      return { record: known, offset: length, stored: length };
    }
    const read = await this.#bucket.readStateAndKeep(id);
    if (read !== undefined) {
      const { state } = read;
      const r = state.record;
      const partialDone = r.status === 'complete' && r.target === null;
      if (r.status === 'active' || partialDone) {
        const offset = state.offset;
        return { record: { ...r, durable: offset }, offset, stored: offset };
      }
      this.#cleanUp(state);
    }
    const finished = await this.#bucket.readFinished(id);
    const record = finished ?? read?.state.record;
    if (record === undefined) return undefined;
    const length = record.length ?? record.durable;
    return { record, offset: length, stored: length };
  }

  /** Finishes the removal of an ended upload, once at a time, in the background. */
  #cleanUp(state: S3UploadState): void {
    const id = state.record.id;
    if (this.#cleaning.has(id)) return;
    this.#cleaning.add(id);
    this.#bucket
      .finish(state)
      .catch(() => {})
      .finally(() => this.#cleaning.delete(id));
  }

  /**
   * Creates an upload: checks the room (the count of unfinished uploads is a listing, so servers
   * creating at the same moment may pass it together), checks and reserves its target, then
   * writes its state.
   */
  async create(input: NewUpload): Promise<Created> {
    if (!S3UploadStore.isId(input.id)) throw new TypeError(`S3UploadStore: bad id ${input.id}`);
    const full = await this.#checkRoom(input.length ?? 0);
    if (full !== undefined) return full;
    if (input.target !== null) {
      const reserved = await this.#reserve(input.target, input.id);
      if (reserved !== undefined) return reserved;
    }
    const now = this.options.now();
    // Bytes in the store are durable once written: nothing waits for a checkpoint.
    const record = newRecord(input, { boot: 's3', now, synced: now });
    try {
      const made = await this.#bucket.createState(newS3UploadState(record, newRev()));
      if (!made) throw new Error(`upload ${input.id} exists already`);
    } catch (error) {
      await this.#bucket.release(record).catch(() => {});
      throw error;
    }
    return { kind: 'created', record };
  }

  /** Refuses a new upload over the count or byte limits (S3 has no free-space figure). */
  async #checkRoom(length: number): Promise<Created | undefined> {
    const ids = await this.activeIds(this.options.maxUploads);
    let claimed = length;
    if (this.options.maxPendingBytes !== undefined && ids.length < this.options.maxUploads) {
      for (const id of ids) {
        const loaded = await this.load(id).catch(() => undefined);
        if (loaded?.record.status === 'active' && loaded.record.length !== null) {
          claimed += loaded.record.length - loaded.offset;
        }
      }
    }
    const verdict = roomVerdict(
      { count: ids.length, claimed, free: Number.POSITIVE_INFINITY },
      this.options,
    );
    return verdict === undefined ? undefined : { kind: 'full', ...verdict };
  }

  /** Reserves `target` for upload `id` (t/HASH, written only where none is), or says why not. */
  async #reserve(target: string[], id: string): Promise<Created | undefined> {
    const checked = await this.checkTarget(target);
    if (checked.kind === 'exists') return { kind: 'taken', reason: `${target.join('/')} exists` };
    if (checked.kind === 'blocked') return { kind: 'blocked', reason: checked.reason };
    const key = this.#bucket.reservationKey(target);
    const taken: Created = {
      kind: 'taken',
      reason: `another upload to ${target.join('/')} is unfinished`,
    };
    if ((await this.#objects.put(key, id, { ifNoneMatch: true }, 'text/plain')) !== undefined) {
      return undefined;
    }
    // Held: by an unfinished upload, or stale (its upload ended, a server stopped between steps).
    const holder = await this.#objects.getText(key);
    if (holder === undefined) {
      // Released meanwhile: one more try.
      const written = await this.#objects.put(key, id, { ifNoneMatch: true }, 'text/plain');
      return written === undefined ? taken : undefined;
    }
    const loaded = S3UploadStore.isId(holder.text) ? await this.load(holder.text) : undefined;
    if (loaded?.record.status === 'active' || loaded?.record.concat?.kind === 'partial') {
      return taken;
    }
    // A creation under way writes its reservation just before its state.
    if (loaded === undefined && Date.now() - holder.modified < YOUNG_RESERVATION_MS) return taken;
    const written = await this.#objects.put(key, id, { ifMatch: holder.etag }, 'text/plain');
    return written === undefined ? taken : undefined;
  }

  /** Sets a deferred length (tus creation-defer-length). */
  async declareLength(record: UploadRecord, length: number): Promise<UploadRecord> {
    for (let i = 0; i < SWAP_TRIES; i++) {
      const read = await this.#bucket.readState(record.id);
      if (read === undefined) throw new Error(`upload ${record.id} has no state`);
      const next = { ...read.state.record, length };
      if (
        (await this.#bucket.swapState({ ...read.state, record: next }, read.etag)) !== undefined
      ) {
        return { ...next, durable: read.state.offset };
      }
    }
    throw new StoreUnavailableError(`upload ${record.id} keeps changing`, 502);
  }

  /**
   * Appends the body at `offset` (s3-append.ts), once the part buffer fits in the process's
   * budget (s3-budget.ts).
   */
  async append(
    record: UploadRecord,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    options: AppendOptions,
  ): Promise<{ record: UploadRecord; appended: Appended }> {
    const bytes = partSizeFor(record.length, offset);
    const release = await appendBudget.take(bytes, options.signal);
    if (release === undefined) return { record, appended: { kind: 'interrupted', offset } };
    try {
      return await appendToS3(this.#bucket, record, offset, body, options);
    } finally {
      release();
    }
  }

  /** Makes a fully stored upload appear at its target (s3-complete.ts). */
  complete(record: UploadRecord): Promise<Completed> {
    return completeInS3(this.#bucket, record);
  }

  /**
   * Termination or expiry: the state says so first (a swap, so another server's running append
   * fails its next one), then the multipart upload is aborted (S3 frees its parts), the finished
   * record is written, and the upload's objects and reservation go. An expiry of an upload that
   * was active meanwhile does nothing.
   */
  async end(record: UploadRecord, status: 'terminated' | 'expired'): Promise<void> {
    for (let i = 0; i < SWAP_TRIES; i++) {
      const read = await this.#bucket.readState(record.id);
      if (read === undefined) {
        if ((await this.#bucket.readFinished(record.id)) === undefined) {
          await this.#bucket.writeFinished({ ...record, status, activity: this.options.now() });
          await this.#bucket.release(record);
        }
        return;
      }
      const r = read.state.record;
      const partialDone = r.status === 'complete' && r.target === null;
      if (r.status !== 'active' && !partialDone) {
        // Ended already (a stop midway): its own status stays.
        await this.#bucket.finish(read.state);
        return;
      }
      if (status === 'expired' && r.activity !== record.activity) return;
      const next: S3UploadState = {
        ...read.state,
        record: { ...r, status, activity: this.options.now(), durable: read.state.offset },
      };
      if ((await this.#bucket.swapState(next, read.etag)) === undefined) continue;
      await this.#bucket.finish(next);
      return;
    }
    throw new StoreUnavailableError(`upload ${record.id} keeps changing`, 502);
  }

  /**
   * tus concatenation: the complete partials' bytes, in order, appended to `record` through the
   * same part buffer as a body (read from each partial's data object).
   */
  async concatenate(
    record: UploadRecord,
    partials: readonly UploadRecord[],
  ): Promise<UploadRecord> {
    const sources: { key: string; size: number }[] = [];
    for (const partial of partials) {
      const read = await this.#bucket.readState(partial.id);
      if (read === undefined || read.state.record.status !== 'complete') {
        throw new Error(`partial upload ${partial.id} is not complete`);
      }
      const data = read.state.data;
      if (data !== null && data.size > 0) sources.push(data);
    }
    const total = sources.reduce((sum, s) => sum + s.size, 0);
    const stream = (key: string) => this.#objects.stream(key);
    async function* bytes(): AsyncGenerator<Uint8Array> {
      for (const source of sources) yield* await stream(source.key);
    }
    const signal = new AbortController().signal;
    const { record: next, appended } = await this.append(record, 0, bytes(), {
      limit: total,
      signal,
    });
    if (appended.kind !== 'stored' || appended.offset !== total) {
      throw new Error(
        `concatenation of upload ${record.id}: ${appended.kind} at ${appended.offset}`,
      );
    }
    return { ...next, length: total, durable: total };
  }

  /** The ids with a folder in u/ (at most `most`, when given). */
  async activeIds(most = Number.POSITIVE_INFINITY): Promise<string[]> {
    const ids: string[] = [];
    const prefix = `${this.base}u/`;
    for await (const page of this.#objects.list(prefix, '/')) {
      for (const p of page.CommonPrefixes ?? []) {
        const id = p.Prefix?.slice(prefix.length, -1) ?? '';
        if (S3UploadStore.isId(id)) ids.push(id);
        if (ids.length >= most) return ids;
      }
    }
    return ids;
  }

  async finishedIds(): Promise<string[]> {
    const ids: string[] = [];
    const prefix = `${this.base}f/`;
    for await (const page of this.#objects.list(prefix)) {
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(prefix.length) ?? '';
        const id = name.slice(0, -'.json'.length);
        if (name.endsWith('.json') && S3UploadStore.isId(id)) ids.push(id);
      }
    }
    return ids;
  }

  async forget(id: string): Promise<void> {
    if (!S3UploadStore.isId(id)) return;
    await this.#bucket.forgetFinished(id);
  }

  /** Removes u/ID/ without a readable state, if every object in it is older than `olderThan`. */
  async removeBroken(id: string, olderThan: number): Promise<void> {
    if (!S3UploadStore.isId(id)) return;
    if ((await this.#bucket.readState(id)) !== undefined) return;
    const keys: string[] = [];
    for await (const page of this.#objects.list(this.#bucket.uploadPrefix(id))) {
      for (const object of page.Contents ?? []) {
        if ((object.LastModified?.getTime() ?? 0) >= olderThan) return;
        if (object.Key !== undefined) keys.push(object.Key);
      }
    }
    for (const key of keys) await this.#objects.delete(key);
  }
}

/** The store factory createUploads() takes, for the bucket folder `location`. */
export function s3UploadStore(conn: S3Connection, location: S3Location): StoreFactory {
  return (options) => new S3UploadStore(conn, location, options);
}
