/**
 * The S3 upload store's objects in the bucket, under the reserved prefix `PREFIX.ranged-uploads/`,
 * which the S3 source never serves nor lists:
 *
 *   u/ID/state.json   the state: the record (core/upload/record.ts), the S3 multipart upload (made
 *                     at the first full part, at the target's key), its parts, the tail, the offset
 *                     (core/upload/s3-state.ts)
 *   u/ID/tail-RAND    the bytes past the last part (less than a part), one object per append
 *   u/ID/stage-RAND   a full part of a body with a checksum, until the checksum matched
 *   u/ID/data         a complete tus partial upload's bytes (its concatenation reads them)
 *   f/ID.json         the record of a finished upload (complete, expired, terminated)
 *   t/SHA256          a reservation of a target key (holds the ID): one unfinished upload per key
 *
 * Every change of a state is a compare-and-swap (swapState(): a PutObject with `If-Match: <the
 * ETag read>`; a random `rev` in every state makes every write's ETag new), and creations are
 * `If-None-Match: *`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { keyFor, type S3Location } from '../../core/s3-location.js';
import { decodeRecord, encodeRecord, type UploadRecord } from '../../core/upload/record.js';
import {
  decodeS3UploadState,
  encodeS3UploadState,
  type S3Multipart,
  type S3UploadState,
} from '../../core/upload/s3-state.js';
import { typeForPath } from '../serve-file.js';
import type { FileStoreOptions, TargetCheck } from '../uploads/store-types.js';
import { setNewest } from './newest-map.js';
import type { S3Connection } from './s3-client.js';
import { S3Objects } from './s3-objects.js';

/** The folder (below the source's prefix) the upload state lives in; never served nor listed. */
export const S3_UPLOAD_PREFIX = '.ranged-uploads/';

/** The most finished records a store keeps in memory. */
const FINISHED_CACHE = 10_000;
/** The most states kept for an append (readStateAndKeep()), and for how long, in ms. */
const KEPT_STATES = 1_000;
const KEPT_MS = 2_000;
/** The S3 key length limit, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** True if `id` could name an upload. */
export function isUploadId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A fresh random `rev` for a state (or a token for a claim). */
export function newRev(): string {
  return randomBytes(9).toString('base64url');
}

export interface ReadState {
  state: S3UploadState;
  etag: string;
}

/** The upload store's part of the bucket folder `location`. */
export class S3UploadBucket {
  readonly objects: S3Objects;
  readonly location: S3Location;
  readonly options: FileStoreOptions;
  /** The reserved prefix's key: `PREFIX.ranged-uploads/`. */
  readonly base: string;
  /**
   * Finished records read or written here (they never change once written), so that the sweeper's
   * pass over them every few seconds reads none again; the oldest go past FINISHED_CACHE.
   */
  readonly #finished = new Map<string, UploadRecord>();
  /** States read by load() for the append that usually follows (takeKeptState()). */
  readonly #kept = new Map<string, ReadState & { at: number }>();

  constructor(conn: S3Connection, location: S3Location, options: FileStoreOptions) {
    this.objects = new S3Objects(conn, location.bucket);
    this.location = location;
    this.options = options;
    this.base = `${location.prefix}${S3_UPLOAD_PREFIX}`;
  }

  // --- keys ---------------------------------------------------------------------------------

  uploadPrefix(id: string): string {
    return `${this.base}u/${id}/`;
  }

  stateKey(id: string): string {
    return `${this.uploadPrefix(id)}state.json`;
  }

  finishedKey(id: string): string {
    return `${this.base}f/${id}.json`;
  }

  reservationKey(target: readonly string[]): string {
    return `${this.base}t/${createHash('sha256').update(target.join('/')).digest('hex')}`;
  }

  /** A fresh key below u/ID/ (`tail-…`, `stage-…`). */
  freshKey(id: string, kind: string): string {
    return `${this.uploadPrefix(id)}${kind}-${randomBytes(9).toString('base64url')}`;
  }

  /** The key an upload's bytes end at: its target's, or a partial upload's own u/ID/data. */
  dataKey(record: UploadRecord): string {
    return record.target === null
      ? `${this.uploadPrefix(record.id)}data`
      : keyFor(this.location, record.target);
  }

  // --- states and finished records ----------------------------------------------------------

  async readState(id: string): Promise<ReadState | undefined> {
    const got = await this.objects.getText(this.stateKey(id));
    if (got === undefined) return undefined;
    const state = decodeS3UploadState(got.text);
    return state === undefined ? undefined : { state, etag: got.etag };
  }

  /**
   * Reads the state and keeps it a moment for the append of the same request (takeKeptState()):
   * one read of the store less per PATCH.
   */
  async readStateAndKeep(id: string): Promise<ReadState | undefined> {
    const read = await this.readState(id);
    if (read === undefined) this.#kept.delete(id);
    else setNewest(this.#kept, id, { ...read, at: Date.now() }, KEPT_STATES);
    return read;
  }

  /**
   * The state readStateAndKeep() read for `id` within the last KEPT_MS, once. It may be out of
   * date: a caller uses it only for swaps over its ETag, which then fail and read again.
   */
  takeKeptState(id: string): ReadState | undefined {
    const kept = this.#kept.get(id);
    if (kept === undefined) return undefined;
    this.#kept.delete(id);
    return Date.now() - kept.at <= KEPT_MS ? { state: kept.state, etag: kept.etag } : undefined;
  }

  /** Writes a new upload's state, only where none is; false when one is there already. */
  async createState(state: S3UploadState): Promise<boolean> {
    const key = this.stateKey(state.record.id);
    const body = encodeS3UploadState(state);
    const written = await this.objects.put(key, body, { ifNoneMatch: true }, 'application/json');
    return written !== undefined;
  }

  /** Replaces the state read with ETag `etag` by `next`; the new ETag, undefined if it changed. */
  swapState(next: S3UploadState, etag: string): Promise<string | undefined> {
    const body = encodeS3UploadState({ ...next, rev: newRev() });
    return this.objects.put(
      this.stateKey(next.record.id),
      body,
      { ifMatch: etag },
      'application/json',
    );
  }

  /** After a conflict: ends the claim `token` if the state still holds it; the state now. */
  async endClaim(id: string, token: string): Promise<S3UploadState | undefined> {
    const read = await this.readState(id).catch(() => undefined);
    if (read === undefined || read.state.claim?.token !== token) return read?.state;
    const next = { ...read.state, claim: null };
    const written = await this.swapState(next, read.etag).catch(() => undefined);
    return written === undefined ? read.state : next;
  }

  /** The finished record of `id` if this store read or wrote it already. */
  knownFinished(id: string): UploadRecord | undefined {
    return this.#finished.get(id);
  }

  async readFinished(id: string): Promise<UploadRecord | undefined> {
    const known = this.#finished.get(id);
    if (known !== undefined) return known;
    const got = await this.objects.getText(this.finishedKey(id));
    const record = got === undefined ? undefined : decodeRecord(got.text);
    if (record !== undefined) this.#remember(record);
    return record;
  }

  async writeFinished(record: UploadRecord): Promise<void> {
    const key = this.finishedKey(record.id);
    await this.objects.put(key, encodeRecord(record), {}, 'application/json');
    this.#remember(record);
  }

  async forgetFinished(id: string): Promise<void> {
    await this.objects.delete(this.finishedKey(id));
    this.#finished.delete(id);
  }

  #remember(record: UploadRecord): void {
    setNewest(this.#finished, record.id, record, FINISHED_CACHE);
  }

  // --- targets, multipart uploads, the end ---------------------------------------------------

  async checkTarget(target: readonly string[]): Promise<TargetCheck> {
    const key = keyFor(this.location, target);
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
      return { kind: 'blocked', reason: 'the path is too long for an S3 key' };
    }
    if ((await this.objects.exists(key)) !== undefined) return { kind: 'exists' };
    // A "folder": any object below `key/`.
    if (await this.objects.anyBelow(`${key}/`)) return { kind: 'exists' };
    // A folder on the way that is an object: `a` for `a/b`.
    for (let i = 1; i < target.length; i++) {
      const folder = target.slice(0, i);
      if ((await this.objects.exists(keyFor(this.location, folder))) !== undefined) {
        return { kind: 'blocked', reason: `${folder.join('/')} is not a folder` };
      }
    }
    return { kind: 'free' };
  }

  /** Makes the multipart upload of `record`, at the key its bytes end at. */
  createMultipart(record: UploadRecord): Promise<S3Multipart> {
    const key = this.dataKey(record);
    const type = record.target === null ? 'application/octet-stream' : typeForPath(key);
    return this.objects.createMultipart(key, type);
  }

  /** Frees the target of `record` if it still holds it. */
  async release(record: UploadRecord): Promise<void> {
    if (record.target === null) return;
    const key = this.reservationKey(record.target);
    const holder = await this.objects.getText(key);
    if (holder?.text === record.id) await this.objects.delete(key);
  }

  /**
   * The last steps of an ended upload (its state says complete, terminated or expired): aborts an
   * unfinished multipart upload, writes the finished record, removes u/ID/ (the state last) and
   * the reservation.
   */
  async finish(state: S3UploadState): Promise<void> {
    const r = state.record;
    if (state.multipart !== null) await this.objects.abort(state.multipart);
    await this.writeFinished(r);
    const stateKey = this.stateKey(r.id);
    for await (const page of this.objects.list(this.uploadPrefix(r.id))) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined && object.Key !== stateKey) {
          await this.objects.delete(object.Key);
        }
      }
    }
    await this.objects.delete(stateKey);
    await this.release(r);
  }
}
