/** The upload store's API (UploadStore) and its types. */
import type { UploadProtocol, UploadRecord } from '../../core/upload/record.js';
import type { BodyWriteOptions } from './body-writer.js';

/**
 * The store could not be reached or answered with an error (an S3 store's timeout or 5xx): the
 * request is answered `status` (502, 504: as a proxy answers for its upstream) with Retry-After,
 * not 500, and what was stored before stays.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly status: 502 | 504;

  constructor(message: string, status: 502 | 504, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

export interface FileStoreOptions {
  /** Targets may have dot-names (as `--dotfiles` serves them). */
  dotfiles: boolean;
  /** Most unfinished uploads at once; one more is refused. */
  maxUploads: number;
  /** Most bytes all unfinished uploads may still claim (declared lengths); undefined: disk space. */
  maxPendingBytes: number | undefined;
  /** Least time between two checkpoints (fdatasync + record) while PATCHes stream in, ms. */
  syncInterval: number;
  /** The clock, ms since the epoch. */
  now: () => number;
}

/** An upload as loaded: its record and the offset it may claim now. */
export interface Loaded {
  record: UploadRecord;
  offset: number;
  /** Bytes in the data file (for a finished upload: its length). */
  stored: number;
}

export interface NewUpload {
  /** From newUploadId(). */
  id: string;
  protocol: UploadProtocol;
  target: string[] | null;
  length: number | null;
  metadata: string | null;
  concat: UploadRecord['concat'];
}

export type Created =
  | { kind: 'created'; record: UploadRecord }
  /** The target exists, or another unfinished upload targets it (409). */
  | { kind: 'taken'; reason: string }
  /** A folder on the way is a file or leads outside (409). */
  | { kind: 'blocked'; reason: string }
  /** Too many unfinished uploads (503), or not enough room for what they claim (507). */
  | { kind: 'full'; status: 503 | 507; reason: string };

/** What an append did. `offset` is the upload's offset after it, in every case. */
export type Appended =
  | { kind: 'stored'; offset: number }
  | { kind: 'checksum-mismatch'; offset: number }
  | { kind: 'too-large'; offset: number }
  /** The body stopped early (the client went, a newer request took over, too slow). */
  | { kind: 'interrupted'; offset: number }
  /** The disk is full: 507, what was stored is kept. */
  | { kind: 'no-space'; offset: number }
  /**
   * Another server appended to this upload meanwhile (an object store shared by several servers):
   * nothing of this body counts; 409, the client asks for the offset (HEAD).
   */
  | { kind: 'conflict'; offset: number };

/** limit (too-large past it), signal (request-release, the minimum speed), onBytes (the speed watch). */
export interface AppendOptions extends BodyWriteOptions {
  /** Verify the chunk before it counts (tus checksum). */
  checksum?: { algorithm: string; digest: Uint8Array } | undefined;
  /**
   * The body's declared length (its Content-Length), if it has one: a store may start sending a
   * part before its bytes are all in (it still copes with a body that stops short).
   */
  declared?: number | undefined;
}

/** Whether an upload could be placed at a target path (no folder is created). */
export type TargetCheck =
  /** Free: nothing at the target, and every folder on the way is a folder (or missing). */
  | { kind: 'free' }
  /** Something is at the target already (a file, a folder, a link). */
  | { kind: 'exists' }
  /** A folder on the way is a file, or leads outside the served root. */
  | { kind: 'blocked'; reason: string };

export type Completed =
  | { kind: 'complete'; record: UploadRecord }
  | { kind: 'exists' | 'blocked'; reason: string };

/**
 * Where uploads are kept: on the served folder's disk (file-store.ts) or in an S3 bucket
 * (sources/s3-upload-store.ts). The protocols (tus.ts, ietf.ts, put.ts) see only this.
 */
export interface UploadStore {
  /** Prepares the store (folders, a bucket check); rejects if it cannot keep uploads. */
  open(): void | Promise<void>;
  /** True if `id` could name an upload (checked before anything is built from it). */
  isId(id: string): boolean;
  /** Says whether `target` is free, taken or blocked now (the IETF draft's 409 before a byte). */
  checkTarget(target: readonly string[]): Promise<TargetCheck>;
  /** The upload `id`: active (with the offset it may claim) or finished; undefined if unknown. */
  load(id: string): Promise<Loaded | undefined>;
  /** Creates an upload: checks and reserves its target, then makes its record. */
  create(input: NewUpload): Promise<Created>;
  /** Sets a deferred length (tus creation-defer-length). */
  declareLength(record: UploadRecord, length: number): Promise<UploadRecord>;
  /** Appends the body at `offset`, the upload's claimable offset. */
  append(
    record: UploadRecord,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    options: AppendOptions,
  ): Promise<{ record: UploadRecord; appended: Appended }>;
  /** Makes a fully stored upload appear at its target (a partial upload just completes). */
  complete(record: UploadRecord): Promise<Completed>;
  /** Termination or expiry: the data goes, a finished record says what happened. */
  end(record: UploadRecord, status: 'terminated' | 'expired'): Promise<void>;
  /** tus concatenation: the complete partials' bytes, in order, into `record`. */
  concatenate(record: UploadRecord, partials: readonly UploadRecord[]): Promise<UploadRecord>;
  /** The ids of unfinished uploads. */
  activeIds(): Promise<string[]>;
  /** The ids of finished records. */
  finishedIds(): Promise<string[]>;
  /** Removes a finished record (the sweeper, once it is old). */
  forget(id: string): Promise<void>;
  /** Removes an upload without a readable record (a creation cut short), if it is old. */
  removeBroken(id: string, olderThan: number): Promise<void>;
  /** Stops background work (checkpoints, timers). */
  close?(): void;
}
