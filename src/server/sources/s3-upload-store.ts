/**
 * The upload store of an `s3://BUCKET[/PREFIX]` source: every upload's state lives in the bucket,
 * so any ranged server on the same bucket continues any upload (tus and the IETF draft both). Under
 * the reserved prefix `PREFIX.ranged-uploads/`, which the S3 source never serves nor lists:
 *
 *   u/ID/state.json   the state: the record (core/upload/record.ts), the S3 multipart upload (made
 *                     at the first full part, at the target's key), its parts, the tail, the offset
 *   u/ID/tail-RAND    the bytes past the last part (less than a part), one object per append
 *   u/ID/stage-RAND   a full part of a body with a checksum, until the checksum matched
 *   u/ID/data         a complete tus partial upload's bytes (its concatenation reads them)
 *   f/ID.json         the record of a finished upload (complete, expired, terminated)
 *   t/SHA256          a reservation of a target key (holds the ID): one unfinished upload per key
 *
 * Servers share no lock: every change of a state is a compare-and-swap, a PutObject with
 * `If-Match: <the ETag read>` (a random `rev` in every state makes every write's ETag new), and
 * creations are `If-None-Match: *`. A writer whose swap fails lost a race with another request
 * (maybe on another server): nothing more of its body counts, and the protocols answer 409 (the
 * client asks for the offset with HEAD and goes on from there).
 *
 * Part numbers are never skipped: Ceph RGW 16.2 completes a multipart upload only when the list
 * names every part uploaded to it (InvalidPart otherwise), so a part that was uploaded but not
 * counted must be overwritten by the next part. So a writer claims the next number in the state (a
 * swap) before it uploads that part, the claim lasts twice the part upload's time limit, and the
 * swap that counts the part ends the claim. While another writer's claim lasts, an append is a
 * conflict; a claim that ran out (its server stopped) is taken over, and the same number uploaded
 * again. CompleteMultipartUpload checks every part's ETag, so bytes that were not counted can never
 * reach the target.
 *
 * Measured on Ceph RGW 16.2 (Pacific): PutObject honours `If-None-Match: *` and `If-Match` (412),
 * but `If-Match` must carry the ETag without its quotes (a quoted one never matches), and of writers
 * racing with the same `If-Match` one wins and the others get 412 or 500 (the object then says who
 * won). CompleteMultipartUpload and CopyObject ignore `If-None-Match: *`: the target is checked
 * with HeadObject just before (another ranged upload cannot race for it: the reservation).
 *
 * Memory: an append holds one part buffer (8 MiB; more when the declared length needs more than
 * 9,000 parts, or past 16 GiB of an unknown length: partSizeFor()) and one piece of the body. The part buffers of one process stay within
 * MAX_APPEND_BYTES (128 MiB: 16 appends of 8 MiB parts; one append with a larger part runs alone):
 * the others wait in order with their body unread (the minimum-speed watch may cut them off: 408,
 * nothing lost).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CompletedPart,
  GetObjectCommandOutput,
  ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { keyFor, type S3Location } from '../../core/s3-location.js';
import { decodeRecord, encodeRecord, type UploadRecord } from '../../core/upload/record.js';
import { roomVerdict } from '../../core/upload/room.js';
import { typeForPath } from '../serve-file.js';
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
import { type S3Connection, s3Failure } from './s3-client.js';

/** The folder (below the source's prefix) the upload state lives in; never served nor listed. */
export const S3_UPLOAD_PREFIX = '.ranged-uploads/';

const MiB = 1024 * 1024;
/** The usual part size; S3 wants at least 5 MiB for every part but the last. */
export const PART_SIZE = 8 * MiB;
/** S3's most parts per multipart upload. */
const MAX_PARTS = 10_000;
/** The parts a declared length is planned for. */
const PLANNED_PARTS = 9_000;
/** The part buffers of the appends running at once in this process: 16 of the usual size. */
export const MAX_APPEND_BYTES = 16 * PART_SIZE;
/** A completion begun by a server that did not finish it within this long may be taken over. */
const COMPLETING_LEASE_MS = 60_000;
/** A reservation this young whose upload has no state yet belongs to a creation under way. */
const YOUNG_RESERVATION_MS = 60_000;
/** The most finished records a store keeps in memory. */
const FINISHED_CACHE = 10_000;
/** Tries of a swap that only sets a field (declareLength, end) while others write. */
const SWAP_TRIES = 8;
/** The S3 key length limit, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** The longest a part upload (or copy) of `size` bytes may take: 20 s plus 1 s per MiB. */
export function partTimeoutMs(size: number): number {
  return 20_000 + Math.ceil(size / MiB) * 1_000;
}

/** How long a claim on a part number lasts: twice the part's time limit, and 5 s. */
function claimMs(size: number): number {
  return 2 * partTimeoutMs(size) + 5_000;
}

interface Part {
  n: number;
  /** Without quotes. */
  etag: string;
  size: number;
}

/** An upload's state (u/ID/state.json). */
interface S3UploadState {
  v: 1;
  record: UploadRecord;
  /** The multipart upload, at the target's key (a partial upload's: u/ID/data); made lazily. */
  multipart: { uploadId: string; key: string } | null;
  /** The parts counted: numbers 1, 2, 3... with no gap. */
  parts: Part[];
  /** A writer uploading part `n` now (Date.now() ms `until`): others wait for the swap after. */
  claim: { n: number; token: string; until: number } | null;
  /** The bytes past the last part. */
  tail: { key: string; size: number; etag: string } | null;
  /** Bytes stored: the parts' sizes plus the tail's. */
  offset: number;
  /** Date.now() ms: a server began completing the upload then. */
  completing: number | null;
  /** A complete partial upload's bytes (null: none). */
  data: { key: string; size: number } | null;
  /** Random on every write, so that no two writes share an ETag (the swap's version). */
  rev: string;
}

interface ReadState {
  state: S3UploadState;
  etag: string;
}

/** A compare-and-swap failed: another request changed the state since it was read. */
class Conflict extends Error {
  override name = 'Conflict';
}

/**
 * The part buffers of the appends running in this process: at most `limit` bytes together (one
 * append alone may go past it); the others wait in order.
 */
export class BufferBudget {
  readonly limit: number;
  #used = 0;
  readonly #waiting: { bytes: number; grant(): void }[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes `bytes`; their release, or undefined when `signal` aborted first. */
  async take(bytes: number, signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return undefined;
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#used += bytes;
    } else {
      const granted = await new Promise<boolean>((resolve) => {
        const waiter = {
          bytes,
          grant: () => {
            signal.removeEventListener('abort', abort);
            resolve(true);
          },
        };
        const abort = () => {
          const at = this.#waiting.indexOf(waiter);
          if (at !== -1) this.#waiting.splice(at, 1);
          resolve(false);
          this.#pump();
        };
        signal.addEventListener('abort', abort, { once: true });
        this.#waiting.push(waiter);
      });
      if (!granted) return undefined;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
      this.#pump();
    };
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.limit;
  }

  /** Grants the waiters in order while they fit. */
  #pump(): void {
    for (;;) {
      const next = this.#waiting[0];
      if (next === undefined || !this.#fits(next.bytes)) return;
      this.#waiting.shift();
      this.#used += next.bytes;
      next.grant();
    }
  }
}

/** One budget per process: every S3 upload store of it shares the bound. */
const appendBudget = new BufferBudget(MAX_APPEND_BYTES);

/**
 * The part size for an upload of `length` bytes (null: not declared yet) at `offset`: 8 MiB, more
 * when the length needs more than 9,000 parts (whole MiB); with an unknown length it doubles at
 * 16, 48, 112 and 240 GiB (2,048 parts each, then 128 MiB: about 466 GiB in 10,000 parts).
 */
export function partSizeFor(length: number | null, offset: number): number {
  if (length !== null) return Math.max(PART_SIZE, Math.ceil(length / PLANNED_PARTS / MiB) * MiB);
  const GiB = 1024 * MiB;
  const step = [16, 48, 112, 240].filter((at) => offset >= at * GiB).length;
  return PART_SIZE * 2 ** step;
}

/** The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, then `-COUNT`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(unquote(etag), 'hex'));
  return `${hash.digest('hex')}-${partEtags.length}`;
}

/** An ETag without W/ and quotes, lowercase (RGW 16.2 matches If-Match only so). */
function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

const EMPTY_ETAG = md5(new Uint8Array(0));

function newRev(): string {
  return randomBytes(9).toString('base64url');
}

function decodeState(text: string): S3UploadState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Partial<S3UploadState>;
  if (s.v !== 1 || typeof s.rev !== 'string' || !Array.isArray(s.parts)) return undefined;
  if (typeof s.offset !== 'number') return undefined;
  const record = decodeRecord(JSON.stringify(s.record));
  if (record === undefined) return undefined;
  return {
    v: 1,
    record,
    multipart: s.multipart ?? null,
    parts: s.parts,
    claim: s.claim ?? null,
    tail: s.tail ?? null,
    offset: s.offset,
    completing: s.completing ?? null,
    data: s.data ?? null,
    rev: s.rev,
  };
}

function sumParts(parts: readonly Part[]): number {
  return parts.reduce((sum, part) => sum + part.size, 0);
}

/** `CopySource` for an object of `bucket`: bucket and key, each path segment URL-encoded. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Whether `error` is the S3 client's (a service answer, a network or time failure). */
function isS3Error(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $metadata?: unknown; $fault?: unknown; name?: unknown; code?: unknown };
  if (e.$metadata !== undefined || e.$fault !== undefined) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code);
}

function httpStatus(error: unknown): number | undefined {
  const e = (error instanceof StoreUnavailableError ? error.cause : error) as {
    $metadata?: { httpStatusCode?: number };
  };
  return e?.$metadata?.httpStatusCode;
}

export class S3UploadStore implements UploadStore {
  readonly conn: S3Connection;
  readonly location: S3Location;
  readonly options: FileStoreOptions;
  /** The reserved prefix's key: `PREFIX.ranged-uploads/`. */
  readonly base: string;
  /** Ids whose ended state is being cleaned up (load() finishing a cut-short end). */
  readonly #cleaning = new Set<string>();
  /**
   * Finished records read or written here (they never change once written), so that the sweeper's
   * pass over them every few seconds reads none again; the oldest go past FINISHED_CACHE.
   */
  readonly #finished = new Map<string, UploadRecord>();

  constructor(conn: S3Connection, location: S3Location, options: FileStoreOptions) {
    this.conn = conn;
    this.location = location;
    this.options = options;
    this.base = `${location.prefix}${S3_UPLOAD_PREFIX}`;
  }

  /** Nothing to prepare: the bucket is checked by the source; a failing store answers 502. */
  open(): void {}

  static isId(id: string): boolean {
    return ID_PATTERN.test(id);
  }

  isId(id: string): boolean {
    return S3UploadStore.isId(id);
  }

  // --- S3 calls -----------------------------------------------------------------------------

  /**
   * Sends a command (within `timeoutMs` if given). A missing object (404) and a failed
   * precondition (412) reject with the client's error, for the caller to sort; any other failure
   * of the store rejects with StoreUnavailableError (502, 504 when it did not answer in time).
   */
  async #send<T>(command: unknown, timeoutMs?: number): Promise<T> {
    try {
      // The commands are the SDK's own (conn.sdk), built by the callers below.
      const options =
        timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMs) };
      return (await this.conn.client.send(command as never, options)) as T;
    } catch (error) {
      if (!isS3Error(error)) throw error;
      const failure = s3Failure(error);
      if (failure.kind === 'missing' || failure.kind === 'changed') throw error;
      throw new StoreUnavailableError(
        `the S3 store failed: ${failure.detail}`,
        failure.kind === 'timeout' ? 504 : 502,
        { cause: error },
      );
    }
  }

  #isMissing(error: unknown): boolean {
    return isS3Error(error) && s3Failure(error).kind === 'missing';
  }

  #isChanged(error: unknown): boolean {
    return isS3Error(error) && s3Failure(error).kind === 'changed';
  }

  /** The object's bytes as text, its ETag and time, or undefined when it is not there. */
  async #getText(
    key: string,
  ): Promise<{ text: string; etag: string; modified: number } | undefined> {
    const { GetObjectCommand } = this.conn.sdk;
    let out: GetObjectCommandOutput;
    try {
      out = await this.#send(new GetObjectCommand({ Bucket: this.location.bucket, Key: key }));
    } catch (error) {
      if (this.#isMissing(error)) return undefined;
      throw error;
    }
    const text = (await out.Body?.transformToString('utf8')) ?? '';
    return { text, etag: unquote(out.ETag), modified: out.LastModified?.getTime() ?? 0 };
  }

  /**
   * Writes an object; with `ifMatch` (an ETag without quotes), only over that version; with
   * `ifNoneMatch`, only where none is. The new ETag, or undefined when the condition failed.
   */
  async #put(
    key: string,
    body: Uint8Array | string,
    condition: { ifMatch?: string; ifNoneMatch?: boolean } = {},
    contentType = 'application/octet-stream',
  ): Promise<string | undefined> {
    const { PutObjectCommand } = this.conn.sdk;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const conditional = condition.ifMatch !== undefined || condition.ifNoneMatch === true;
    try {
      const out = await this.#send<{ ETag?: string }>(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: contentType,
          IfMatch: condition.ifMatch,
          IfNoneMatch: condition.ifNoneMatch ? '*' : undefined,
        }),
      );
      return unquote(out.ETag);
    } catch (error) {
      if (!conditional) throw error;
      if (this.#isChanged(error) || this.#isMissing(error)) return undefined;
      // RGW 16.2 answers some losers of a race of conditional writes with 500: the object says
      // whether this write is the one that won (every body written so is unique).
      if (httpStatus(error) === 500) {
        const now = await this.#exists(key);
        return now !== undefined && now.etag === md5(bytes) ? now.etag : undefined;
      }
      throw error;
    }
  }

  async #delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = this.conn.sdk;
    try {
      await this.#send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }));
    } catch (error) {
      if (!this.#isMissing(error)) throw error;
    }
  }

  /** The object at `key` (its ETag without quotes), or undefined. */
  async #exists(key: string): Promise<{ etag: string } | undefined> {
    const { HeadObjectCommand } = this.conn.sdk;
    try {
      const out = await this.#send<{ ETag?: string }>(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: key }),
      );
      return { etag: unquote(out.ETag) };
    } catch (error) {
      if (this.#isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Every page of a listing under `prefix` (with `delimiter`: its common prefixes too). */
  async *#list(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    const { ListObjectsV2Command } = this.conn.sdk;
    let token: string | undefined;
    do {
      const page = await this.#send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Reads the `size` bytes of the object at `key` into `buffer` from 0; returns `size`. */
  async #readInto(key: string, buffer: Buffer, size: number): Promise<number> {
    if (size === 0) return 0;
    let at = 0;
    for await (const chunk of await this.#stream(key)) {
      const piece = chunk as Buffer;
      if (at + piece.length > size) throw new Error(`${key} holds more than ${size} bytes`);
      piece.copy(buffer, at);
      at += piece.length;
    }
    if (at !== size) throw new Error(`${key} holds ${at} bytes, not ${size}`);
    return size;
  }

  /** A readable stream of the object at `key`. */
  async #stream(key: string): Promise<Readable> {
    const { GetObjectCommand } = this.conn.sdk;
    const out = await this.#send<GetObjectCommandOutput>(
      new GetObjectCommand({ Bucket: this.location.bucket, Key: key }),
    );
    return out.Body as Readable;
  }

  // --- keys and state -----------------------------------------------------------------------

  #uploadPrefix(id: string): string {
    return `${this.base}u/${id}/`;
  }

  #stateKey(id: string): string {
    return `${this.#uploadPrefix(id)}state.json`;
  }

  #finishedKey(id: string): string {
    return `${this.base}f/${id}.json`;
  }

  #reservationKey(target: readonly string[]): string {
    return `${this.base}t/${createHash('sha256').update(target.join('/')).digest('hex')}`;
  }

  /** A fresh key below u/ID/ (`tail-…`, `stage-…`). */
  #freshKey(id: string, kind: string): string {
    return `${this.#uploadPrefix(id)}${kind}-${randomBytes(9).toString('base64url')}`;
  }

  /** The key an upload's bytes end at: its target's, or a partial upload's own u/ID/data. */
  #dataKey(record: UploadRecord): string {
    return record.target === null
      ? `${this.#uploadPrefix(record.id)}data`
      : keyFor(this.location, record.target);
  }

  async #readState(id: string): Promise<ReadState | undefined> {
    const got = await this.#getText(this.#stateKey(id));
    if (got === undefined) return undefined;
    const state = decodeState(got.text);
    return state === undefined ? undefined : { state, etag: got.etag };
  }

  /** Replaces the state read with ETag `etag` by `next`; the new ETag, undefined if it changed. */
  #swapState(next: S3UploadState, etag: string): Promise<string | undefined> {
    const body = `${JSON.stringify({ ...next, rev: newRev() })}\n`;
    return this.#put(this.#stateKey(next.record.id), body, { ifMatch: etag }, 'application/json');
  }

  async #readFinished(id: string): Promise<UploadRecord | undefined> {
    const known = this.#finished.get(id);
    if (known !== undefined) return known;
    const got = await this.#getText(this.#finishedKey(id));
    const record = got === undefined ? undefined : decodeRecord(got.text);
    if (record !== undefined) this.#remember(record);
    return record;
  }

  async #writeFinished(record: UploadRecord): Promise<void> {
    await this.#put(this.#finishedKey(record.id), encodeRecord(record), {}, 'application/json');
    this.#remember(record);
  }

  #remember(record: UploadRecord): void {
    this.#finished.delete(record.id);
    this.#finished.set(record.id, record);
    if (this.#finished.size > FINISHED_CACHE) {
      const oldest = this.#finished.keys().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }

  // --- the store ------------------------------------------------------------------------------

  async checkTarget(target: readonly string[]): Promise<TargetCheck> {
    const key = keyFor(this.location, target);
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
      return { kind: 'blocked', reason: 'the path is too long for an S3 key' };
    }
    if ((await this.#exists(key)) !== undefined) return { kind: 'exists' };
    // A "folder": any object below `key/`.
    const { ListObjectsV2Command } = this.conn.sdk;
    const below = await this.#send<ListObjectsV2CommandOutput>(
      new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: `${key}/`, MaxKeys: 1 }),
    );
    if ((below.Contents?.length ?? 0) > 0) return { kind: 'exists' };
    // A folder on the way that is an object: `a` for `a/b`.
    for (let i = 1; i < target.length; i++) {
      const folder = target.slice(0, i);
      if ((await this.#exists(keyFor(this.location, folder))) !== undefined) {
        return { kind: 'blocked', reason: `${folder.join('/')} is not a folder` };
      }
    }
    return { kind: 'free' };
  }

  /**
   * The upload `id`: its state (an active or complete partial upload), else its finished record.
   * A state whose upload ended but whose objects were not all removed yet (a server stopped
   * midway) is cleaned up in the background.
   */
  async load(id: string): Promise<Loaded | undefined> {
    if (!S3UploadStore.isId(id)) return undefined;
    // A finished record is written only once the upload is over.
    const known = this.#finished.get(id);
    if (known !== undefined) {
      const length = known.length ?? known.durable;
      return { record: known, offset: length, stored: length };
    }
    const read = await this.#readState(id);
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
    const finished = await this.#readFinished(id);
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
    this.#finish(state)
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
    const record: UploadRecord = {
      v: 1,
      id: input.id,
      protocol: input.protocol,
      status: 'active',
      target: input.target,
      length: input.length,
      metadata: input.metadata,
      concat: input.concat,
      durable: 0,
      boot: 's3',
      created: now,
      activity: now,
      synced: now,
    };
    const state: S3UploadState = {
      v: 1,
      record,
      multipart: null,
      parts: [],
      claim: null,
      tail: null,
      offset: 0,
      completing: null,
      data: null,
      rev: newRev(),
    };
    try {
      const written = await this.#put(
        this.#stateKey(input.id),
        `${JSON.stringify(state)}\n`,
        { ifNoneMatch: true },
        'application/json',
      );
      if (written === undefined) throw new Error(`upload ${input.id} exists already`);
    } catch (error) {
      await this.#release(record).catch(() => {});
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
    const key = this.#reservationKey(target);
    const taken: Created = {
      kind: 'taken',
      reason: `another upload to ${target.join('/')} is unfinished`,
    };
    if ((await this.#put(key, id, { ifNoneMatch: true }, 'text/plain')) !== undefined) {
      return undefined;
    }
    // Held: by an unfinished upload, or stale (its upload ended, a server stopped between steps).
    const holder = await this.#getText(key);
    if (holder === undefined) {
      // Released meanwhile: one more try.
      const written = await this.#put(key, id, { ifNoneMatch: true }, 'text/plain');
      return written === undefined ? taken : undefined;
    }
    const loaded = S3UploadStore.isId(holder.text) ? await this.load(holder.text) : undefined;
    if (loaded?.record.status === 'active' || loaded?.record.concat?.kind === 'partial') {
      return taken;
    }
    // A creation under way writes its reservation just before its state.
    if (loaded === undefined && Date.now() - holder.modified < YOUNG_RESERVATION_MS) return taken;
    const written = await this.#put(key, id, { ifMatch: holder.etag }, 'text/plain');
    return written === undefined ? taken : undefined;
  }

  /** Frees the target of `record` if it still holds it. */
  async #release(record: UploadRecord): Promise<void> {
    if (record.target === null) return;
    const key = this.#reservationKey(record.target);
    const holder = await this.#getText(key);
    if (holder?.text === record.id) await this.#delete(key);
  }

  /** Sets a deferred length (tus creation-defer-length). */
  async declareLength(record: UploadRecord, length: number): Promise<UploadRecord> {
    for (let i = 0; i < SWAP_TRIES; i++) {
      const read = await this.#readState(record.id);
      if (read === undefined) throw new Error(`upload ${record.id} has no state`);
      const next = { ...read.state.record, length };
      if ((await this.#swapState({ ...read.state, record: next }, read.etag)) !== undefined) {
        return { ...next, durable: read.state.offset };
      }
    }
    throw new StoreUnavailableError(`upload ${record.id} keeps changing`, 502);
  }

  /**
   * Appends the body at `offset`. It reads the state first: another request's append since the
   * caller's load() is a conflict at once. The tail's bytes and the body go through one part
   * buffer; each full buffer becomes the next part (claimed, uploaded, counted: see the top); at
   * the end the rest is a new tail object, counted by a swap. Past `limit`: 'too-large', keeping
   * what fits; a stop (`signal`, the body's failure): 'interrupted', keeping what arrived. With a
   * checksum, full buffers are staged as objects and become parts only once the whole body
   * matched; on a mismatch nothing of the body counts.
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
      return await this.#append(record, offset, body, options);
    } finally {
      release();
    }
  }

  async #append(
    record: UploadRecord,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    options: AppendOptions,
  ): Promise<{ record: UploadRecord; appended: Appended }> {
    const id = record.id;
    const read = await this.#readState(id);
    if (read === undefined || read.state.record.status !== 'active') {
      return { record, appended: { kind: 'conflict', offset } };
    }
    let { state, etag } = read;
    if (state.offset !== offset || this.#busy(state, undefined, undefined, true)) {
      return { record: state.record, appended: { kind: 'conflict', offset: state.offset } };
    }
    const token = newRev();
    const oldTail = state.tail;
    // A tail above the part size (a length declared after it was written) is one part.
    const partSize = Math.max(partSizeFor(state.record.length, offset), oldTail?.size ?? 0);
    let buffer = Buffer.allocUnsafe(partSize);
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
    const hash = checksum === undefined ? undefined : createHash(checksum.algorithm);

    /**
     * Swaps the state for `change(state)`; when another request changed it meanwhile without
     * taking this append's place (a deferred length), once more on the fresh state.
     */
    const swap = async (change: (s: S3UploadState) => S3UploadState) => {
      for (;;) {
        const next = change(state);
        const written = await this.#swapState(next, etag);
        if (written !== undefined) {
          state = next;
          etag = written;
          return;
        }
        const fresh = await this.#readState(id);
        const f = fresh?.state;
        const same =
          f !== undefined &&
          f.record.status === 'active' &&
          f.offset === state.offset &&
          f.parts.length === state.parts.length &&
          f.tail?.key === state.tail?.key &&
          f.completing === state.completing &&
          (f.claim === null ? state.claim === null : f.claim.token === state.claim?.token);
        if (fresh === undefined || !same) throw new Conflict();
        state = fresh.state;
        etag = fresh.etag;
      }
    };
    const readTail = async () => {
      tailRead = true;
      if (oldTail === null) return;
      try {
        fill = await this.#readInto(oldTail.key, buffer, oldTail.size);
      } catch (error) {
        // Another request counted it in a part and removed it.
        if (this.#isMissing(error)) throw new Conflict();
        throw error;
      }
    };
    /** Claims the next part number (making the multipart upload at the first). */
    const claim = async (size: number) => {
      if (this.#busy(state, token, undefined, true)) throw new Conflict();
      const n = state.parts.length + 1;
      if (n > MAX_PARTS) throw new Error(`upload ${id} would need more than ${MAX_PARTS} parts`);
      let multipart = state.multipart;
      let made: { uploadId: string; key: string } | undefined;
      if (multipart === null) {
        made = await this.#createMultipart(state.record);
        multipart = made;
      }
      const mine = { n, token, until: Date.now() + claimMs(size) };
      try {
        await swap((s) => ({ ...s, multipart, claim: mine }));
      } catch (error) {
        if (made !== undefined) await this.#abort(made).catch(() => {});
        throw error;
      }
      return { n, multipart };
    };
    /** Counts part `part`, ending the claim. */
    const count = async (part: Part) => {
      await swap((s) => {
        const parts = [...s.parts, part];
        return {
          ...s,
          parts,
          claim: null,
          tail: null,
          offset: sumParts(parts),
          record: { ...s.record, activity: this.options.now() },
        };
      });
      if (oldTail !== null && !oldTailCounted) {
        oldTailCounted = true;
        await this.#delete(oldTail.key).catch(() => {});
      }
    };
    const uploadPart = async () => {
      const size = fill;
      if (checksum !== undefined) {
        const key = this.#freshKey(id, 'stage');
        await this.#put(key, buffer.subarray(0, size));
        staged.push({ key, size });
        fill = 0;
        grow();
        return;
      }
      const { n, multipart } = await claim(size);
      const { UploadPartCommand } = this.conn.sdk;
      const out = await this.#partSent<{ ETag?: string }>(
        new UploadPartCommand({
          Bucket: this.location.bucket,
          Key: multipart.key,
          UploadId: multipart.uploadId,
          PartNumber: n,
          Body: buffer.subarray(0, size),
          ContentLength: size,
        }),
        size,
      );
      fill = 0;
      await count({ n, etag: unquote(out.ETag), size });
      grow();
    };

    let tooLarge = false;
    let failure: unknown;
    /** A failure of the store (or a conflict), told apart from the body's. */
    let storeFailure: { error: unknown } | undefined;
    const step = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        storeFailure = { error };
        throw error;
      }
    };
    let taken = 0;
    const { signal, limit } = options;
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
            const n = Math.min(piece.length - at, buffer.length - fill);
            buffer.set(piece.subarray(at, at + n), fill);
            fill += n;
            at += n;
          }
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
      }
      if (checksum !== undefined) {
        const digest = hash?.digest();
        const good =
          failure === undefined &&
          !tooLarge &&
          digest !== undefined &&
          Buffer.from(checksum.digest).equals(digest);
        if (!good) {
          // tus 1.0.0 §Checksum: "the Server [...] MUST discard the chunk and not update the offset".
          for (const s of staged) await this.#delete(s.key).catch(() => {});
          const kind = tooLarge
            ? 'too-large'
            : failure === undefined
              ? 'checksum-mismatch'
              : 'interrupted';
          return { record: state.record, appended: { kind, offset: state.offset } };
        }
        // The body matched: its staged parts become parts, copied in the store.
        const { UploadPartCopyCommand } = this.conn.sdk;
        while (staged.length > 0) {
          const s = staged[0] as { key: string; size: number };
          const { n, multipart } = await claim(s.size);
          const out = await this.#partSent<{ CopyPartResult?: { ETag?: string } }>(
            new UploadPartCopyCommand({
              Bucket: this.location.bucket,
              Key: multipart.key,
              UploadId: multipart.uploadId,
              PartNumber: n,
              CopySource: copySource(this.location.bucket, s.key),
            }),
            s.size,
          );
          await count({ n, etag: unquote(out.CopyPartResult?.ETag), size: s.size });
          staged.shift();
          await this.#delete(s.key).catch(() => {});
        }
      }
      if (taken > 0 || oldTailCounted) {
        if (this.#busy(state, token, undefined, true)) throw new Conflict();
        if (fill > 0) {
          const key = this.#freshKey(id, 'tail');
          const written = await this.#put(key, buffer.subarray(0, fill));
          newTail = { key, size: fill, etag: written ?? md5(buffer.subarray(0, fill)) };
        }
        const tail = newTail;
        await swap((s) => ({
          ...s,
          tail,
          offset: sumParts(s.parts) + (tail?.size ?? 0),
          record: { ...s.record, activity: this.options.now() },
        }));
        if (oldTail !== null && !oldTailCounted) await this.#delete(oldTail.key).catch(() => {});
      }
    } catch (error) {
      if (!(error instanceof Conflict)) {
        // The store failed. A part upload that timed out may still land: its claim stays until it
        // runs out; after a failure the store answered, the number is free again.
        if (error instanceof StoreUnavailableError && error.status === 502) {
          await this.#endClaim(id, token);
        }
        throw error;
      }
      // Another request changed the upload: nothing more of this body counts.
      for (const s of staged) await this.#delete(s.key).catch(() => {});
      if (newTail !== null) await this.#delete(newTail.key).catch(() => {});
      const now = await this.#endClaim(id, token);
      const at = now?.offset ?? state.offset;
      return {
        record: now?.record ?? state.record,
        appended: { kind: 'conflict', offset: at },
      };
    }
    const next = { ...state.record, durable: state.offset };
    const kind = tooLarge ? 'too-large' : failure !== undefined ? 'interrupted' : 'stored';
    return { record: next, appended: { kind, offset: state.offset } };
  }

  /**
   * Sends a part upload (or copy) of `size` bytes within its time limit; a multipart upload that
   * is gone (a termination meanwhile) is a conflict.
   */
  async #partSent<T>(command: unknown, size: number): Promise<T> {
    try {
      return await this.#send<T>(command, partTimeoutMs(size));
    } catch (error) {
      if (this.#isMissing(error)) throw new Conflict();
      throw error;
    }
  }

  /**
   * True while a completion runs, or (unless `takeover`) another writer's claim on a part number
   * lasts: no append may count anything then.
   *
   * An append takes over a live claim (request-release across servers, as the locks do in one
   * process): the newer request at the upload's offset wins, so a client whose server died
   * (`kill -9`) mid-part goes on at once with another server instead of waiting for the claim to
   * run out. The older writer learns it at its next swap (the state changed: a conflict, 409), so
   * nothing more of its body counts. If its part upload was already on the way, it may land after
   * the newer writer's part of the same number: the bytes at one offset of one upload are the same
   * bytes (the client resends the file from the offset), so the part and its ETag are the same;
   * if they were not, CompleteMultipartUpload refuses the part list (InvalidPart) and nothing is
   * spliced.
   */
  #busy(state: S3UploadState, token?: string, mark?: number, takeover = false): boolean {
    const now = Date.now();
    const completing = state.completing;
    if (completing !== null && completing !== mark && now - completing < COMPLETING_LEASE_MS) {
      return true;
    }
    if (takeover) return false;
    return state.claim !== null && state.claim.token !== token && state.claim.until > now;
  }

  /** After a conflict: ends this writer's claim if the state still holds it; the state now. */
  async #endClaim(id: string, token: string): Promise<S3UploadState | undefined> {
    const read = await this.#readState(id).catch(() => undefined);
    if (read === undefined || read.state.claim?.token !== token) return read?.state;
    const next = { ...read.state, claim: null };
    const written = await this.#swapState(next, read.etag).catch(() => undefined);
    return written === undefined ? read.state : next;
  }

  async #createMultipart(record: UploadRecord): Promise<{ uploadId: string; key: string }> {
    const { CreateMultipartUploadCommand } = this.conn.sdk;
    const key = this.#dataKey(record);
    const out = await this.#send<{ UploadId?: string }>(
      new CreateMultipartUploadCommand({
        Bucket: this.location.bucket,
        Key: key,
        ContentType: record.target === null ? 'application/octet-stream' : typeForPath(key),
      }),
    );
    if (out.UploadId === undefined) throw new Error('S3 gave no UploadId');
    return { uploadId: out.UploadId, key };
  }

  /** Aborts a multipart upload (S3 frees its parts); one already gone is fine. */
  async #abort(multipart: { uploadId: string; key: string }): Promise<void> {
    const { AbortMultipartUploadCommand } = this.conn.sdk;
    try {
      await this.#send(
        new AbortMultipartUploadCommand({
          Bucket: this.location.bucket,
          Key: multipart.key,
          UploadId: multipart.uploadId,
        }),
      );
    } catch (error) {
      if (!this.#isMissing(error)) throw error;
    }
  }

  /**
   * Completes an upload whose every byte is stored. A partial upload (tus concatenation) gets its
   * bytes in one object of its own (u/ID/data, or its tail object) and stays; any other appears at
   * its target key at once: one PutObject (no part yet) or one CompleteMultipartUpload (the tail
   * copied in the store as the last part), after a HeadObject said the key is free. A server
   * completing an upload marks it (a swap) and holds it for COMPLETING_LEASE_MS: a second
   * completion waits for the first; one begun by a server that stopped is taken over, and an
   * object at the target with the ETag the completion makes counts as the completion's own.
   */
  async complete(record: UploadRecord): Promise<Completed> {
    const waitUntil = Date.now() + COMPLETING_LEASE_MS + 5_000;
    let pause = 50;
    /** This completion's mark and claim, once made (a retry of the loop is not held up by them). */
    const token = newRev();
    let mark: number | undefined;
    for (;;) {
      const read = await this.#readState(record.id);
      if (read === undefined) return this.#completedElsewhere(record);
      let { state, etag } = read;
      const r = state.record;
      if (r.status === 'complete') return { kind: 'complete', record: r };
      if (r.status !== 'active') return this.#completedElsewhere(record);
      if (r.length === null || state.offset !== r.length) {
        throw new Error(`upload ${r.id}: ${state.offset} of ${r.length} bytes stored`);
      }
      if (this.#busy(state, token, mark)) {
        // Another request (maybe another server's) is completing it, or still counting a part.
        if (Date.now() > waitUntil) throw new StoreUnavailableError('the upload stays busy', 504);
        await sleep(pause);
        pause = Math.min(1_000, pause * 2);
        continue;
      }
      const resumed = state.completing !== null;
      if (r.target !== null) {
        const checked = await this.checkTarget(r.target);
        if (checked.kind === 'blocked') return checked;
        if (checked.kind === 'exists') {
          if (!resumed || !(await this.#holdsOurBytes(state))) {
            return { kind: 'exists', reason: `${r.target.join('/')} exists` };
          }
          return this.#markComplete(state, etag);
        }
      }
      // The mark, and the claim of the tail's part number when it becomes the last part.
      const tailPart = state.parts.length > 0 && state.tail !== null ? state.tail : null;
      const now = Date.now();
      const marked: S3UploadState = {
        ...state,
        completing: now,
        claim:
          tailPart === null
            ? null
            : { n: state.parts.length + 1, token, until: now + claimMs(tailPart.size) },
      };
      const written = await this.#swapState(marked, etag);
      if (written === undefined) continue;
      mark = now;
      state = marked;
      etag = written;
      if (tailPart !== null) {
        const moved = await this.#tailToPart(state, etag);
        if (moved === undefined) continue;
        ({ state, etag } = moved);
      }
      const placed = await this.#place(state);
      if (placed !== undefined) return placed;
      return this.#markComplete(state, etag);
    }
  }

  /** The tail becomes the claimed last part (copied in the store); undefined on a conflict. */
  async #tailToPart(state: S3UploadState, etag: string): Promise<ReadState | undefined> {
    const { tail, multipart, claim } = state;
    if (tail === null || multipart === null || claim === null) return { state, etag };
    const { UploadPartCopyCommand } = this.conn.sdk;
    let out: { CopyPartResult?: { ETag?: string } };
    try {
      out = await this.#partSent(
        new UploadPartCopyCommand({
          Bucket: this.location.bucket,
          Key: multipart.key,
          UploadId: multipart.uploadId,
          PartNumber: claim.n,
          CopySource: copySource(this.location.bucket, tail.key),
        }),
        tail.size,
      );
    } catch (error) {
      // Terminated meanwhile: the caller reads the state again.
      if (error instanceof Conflict) return undefined;
      throw error;
    }
    const part = { n: claim.n, etag: unquote(out.CopyPartResult?.ETag), size: tail.size };
    const next: S3UploadState = {
      ...state,
      parts: [...state.parts, part],
      tail: null,
      claim: null,
    };
    const written = await this.#swapState(next, etag);
    if (written === undefined) return undefined;
    await this.#delete(tail.key).catch(() => {});
    return { state: next, etag: written };
  }

  /**
   * Puts the bytes at their key: CompleteMultipartUpload of the parts, else a PutObject of the
   * tail (a partial upload without parts keeps its tail object as its data). Undefined when done.
   */
  async #place(state: S3UploadState): Promise<Completed | undefined> {
    const r = state.record;
    const { CompleteMultipartUploadCommand, PutObjectCommand } = this.conn.sdk;
    const bucket = this.location.bucket;
    const targeted = r.target !== null;
    try {
      if (state.multipart !== null && state.parts.length > 0) {
        const parts: CompletedPart[] = state.parts.map((p) => ({
          PartNumber: p.n,
          ETag: `"${p.etag}"`,
        }));
        // RGW 16.2 ignores If-None-Match here (measured); sent for the stores that honour it.
        await this.#send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: state.multipart.key,
            UploadId: state.multipart.uploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: targeted ? '*' : undefined,
          }),
        );
      } else if (targeted) {
        const key = this.#dataKey(r);
        const tail = state.tail;
        const body = tail === null ? Buffer.alloc(0) : await this.#stream(tail.key);
        await this.#send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: tail?.size ?? 0,
            ContentType: typeForPath(key),
            IfNoneMatch: '*',
          }),
        );
      }
    } catch (error) {
      if (this.#isChanged(error))
        return { kind: 'exists', reason: `${r.target?.join('/')} exists` };
      // The multipart upload is gone: completed by a server that stopped before it said so, or
      // aborted by a termination meanwhile.
      if (this.#isMissing(error)) {
        if (await this.#holdsOurBytes(state)) return undefined;
        return { kind: 'exists', reason: `upload ${r.id} ended meanwhile` };
      }
      throw error;
    }
    return undefined;
  }

  /** Whether the object at the upload's data key is the one its completion makes (same ETag). */
  async #holdsOurBytes(state: S3UploadState): Promise<boolean> {
    const found = await this.#exists(this.#dataKey(state.record));
    if (found === undefined) return false;
    const expected =
      state.parts.length > 0
        ? multipartEtag(state.parts.map((p) => p.etag))
        : unquote(state.tail?.etag ?? EMPTY_ETAG);
    return found.etag === expected;
  }

  /** Says the upload is complete: a partial upload's state says so; any other is finished. */
  async #markComplete(state: S3UploadState, etag: string): Promise<Completed> {
    const r = state.record;
    const record: UploadRecord = {
      ...r,
      status: 'complete',
      activity: this.options.now(),
      durable: state.offset,
    };
    // A multipart upload without a counted part (its first part's writer lost) was never used.
    const unused = state.parts.length === 0 ? state.multipart : null;
    if (r.target === null) {
      if (unused !== null) await this.#abort(unused);
      const data =
        state.parts.length > 0
          ? { key: this.#dataKey(r), size: state.offset }
          : state.tail === null
            ? null
            : { key: state.tail.key, size: state.tail.size };
      const next: S3UploadState = {
        ...state,
        record,
        multipart: null,
        parts: [],
        claim: null,
        tail: null,
        completing: null,
        data,
      };
      if ((await this.#swapState(next, etag)) === undefined) {
        throw new StoreUnavailableError(`upload ${r.id} changed while completing`, 502);
      }
      return { kind: 'complete', record };
    }
    const next: S3UploadState = { ...state, record, multipart: unused, claim: null };
    // The state says complete before anything is removed (a stop midway is finished by load()).
    await this.#swapState(next, etag);
    await this.#finish(next);
    return { kind: 'complete', record };
  }

  /** The upload has no active state any more: what its finished record says. */
  async #completedElsewhere(record: UploadRecord): Promise<Completed> {
    const finished = await this.#readFinished(record.id);
    if (finished?.status === 'complete') return { kind: 'complete', record: finished };
    return { kind: 'exists', reason: `upload ${record.id} ended meanwhile` };
  }

  /**
   * Termination or expiry: the state says so first (a swap, so another server's running append
   * fails its next one), then the multipart upload is aborted (S3 frees its parts), the finished
   * record is written, and the upload's objects and reservation go. An expiry of an upload that
   * was active meanwhile does nothing.
   */
  async end(record: UploadRecord, status: 'terminated' | 'expired'): Promise<void> {
    for (let i = 0; i < SWAP_TRIES; i++) {
      const read = await this.#readState(record.id);
      if (read === undefined) {
        if ((await this.#readFinished(record.id)) === undefined) {
          await this.#writeFinished({ ...record, status, activity: this.options.now() });
          await this.#release(record);
        }
        return;
      }
      const r = read.state.record;
      const partialDone = r.status === 'complete' && r.target === null;
      if (r.status !== 'active' && !partialDone) {
        // Ended already (a stop midway): its own status stays.
        await this.#finish(read.state);
        return;
      }
      if (status === 'expired' && r.activity !== record.activity) return;
      const next: S3UploadState = {
        ...read.state,
        record: { ...r, status, activity: this.options.now(), durable: read.state.offset },
      };
      if ((await this.#swapState(next, read.etag)) === undefined) continue;
      await this.#finish(next);
      return;
    }
    throw new StoreUnavailableError(`upload ${record.id} keeps changing`, 502);
  }

  /**
   * The last steps of an ended upload (its state says complete, terminated or expired): aborts an
   * unfinished multipart upload, writes the finished record, removes u/ID/ (the state last) and
   * the reservation.
   */
  async #finish(state: S3UploadState): Promise<void> {
    const r = state.record;
    if (state.multipart !== null) await this.#abort(state.multipart);
    await this.#writeFinished(r);
    const stateKey = this.#stateKey(r.id);
    for await (const page of this.#list(this.#uploadPrefix(r.id))) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined && object.Key !== stateKey) await this.#delete(object.Key);
      }
    }
    await this.#delete(stateKey);
    await this.#release(r);
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
      const read = await this.#readState(partial.id);
      if (read === undefined || read.state.record.status !== 'complete') {
        throw new Error(`partial upload ${partial.id} is not complete`);
      }
      const data = read.state.data;
      if (data !== null && data.size > 0) sources.push(data);
    }
    const total = sources.reduce((sum, s) => sum + s.size, 0);
    const stream = (key: string) => this.#stream(key);
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
    for await (const page of this.#list(prefix, '/')) {
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
    for await (const page of this.#list(prefix)) {
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
    await this.#delete(this.#finishedKey(id));
    this.#finished.delete(id);
  }

  /** Removes u/ID/ without a readable state, if every object in it is older than `olderThan`. */
  async removeBroken(id: string, olderThan: number): Promise<void> {
    if (!S3UploadStore.isId(id)) return;
    if ((await this.#readState(id)) !== undefined) return;
    const keys: string[] = [];
    for await (const page of this.#list(this.#uploadPrefix(id))) {
      for (const object of page.Contents ?? []) {
        if ((object.LastModified?.getTime() ?? 0) >= olderThan) return;
        if (object.Key !== undefined) keys.push(object.Key);
      }
    }
    for (const key of keys) await this.#delete(key);
  }
}

/** The store factory createUploads() takes, for the bucket folder `location`. */
export function s3UploadStore(conn: S3Connection, location: S3Location): StoreFactory {
  return (options) => new S3UploadStore(conn, location, options);
}
