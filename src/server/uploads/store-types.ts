/** The types of the upload store's API (file-store.ts). */
import type { UploadProtocol, UploadRecord } from '../../core/upload/record.js';
import type { BodyWriteOptions } from './body-writer.js';

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
  | { kind: 'no-space'; offset: number };

/** limit (too-large past it), signal (request-release, the minimum speed), onBytes (the speed watch). */
export interface AppendOptions extends BodyWriteOptions {
  /** Verify the chunk before it counts (tus checksum). */
  checksum?: { algorithm: string; digest: Uint8Array } | undefined;
}
