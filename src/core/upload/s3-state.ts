/**
 * The state of an upload kept in an S3 bucket (`u/ID/state.json`: the S3 upload store in
 * server/sources/), its codec, and the rules its writers follow: the part size, how long a part
 * upload and a claim on a part number may take, when the upload is busy, and the state's changes
 * as an append counts its bytes. Pure: the clock (`now`) and the state's random `rev` are the
 * caller's.
 *
 * Part numbers are never skipped: Ceph RGW 16.2 completes a multipart upload only when the list
 * names every part uploaded to it (InvalidPart otherwise), so a part that was uploaded but not
 * counted must be overwritten by the next part. So a writer claims the next number in the state (a
 * swap) before it uploads that part, the claim lasts twice the part upload's time limit
 * (claimMs()), and the swap that counts the part ends the claim (countPart()).
 */
import { isCount, parseJsonObject } from './json-object.js';
import { decodeRecord, type UploadRecord } from './record.js';

const MiB = 1024 * 1024;
/** The usual part size; S3 wants at least 5 MiB for every part but the last. */
export const PART_SIZE = 8 * MiB;
/** S3's most parts per multipart upload. */
export const MAX_PARTS = 10_000;
/** The parts a declared length is planned for. */
export const PLANNED_PARTS = 9_000;
/** A completion begun by a server that did not finish it within this long may be taken over. */
export const COMPLETING_LEASE_MS = 60_000;
/** A reservation this young whose upload has no state yet belongs to a creation under way. */
export const YOUNG_RESERVATION_MS = 60_000;

/** A counted part of the multipart upload. */
export interface S3Part {
  n: number;
  /** Without quotes. */
  etag: string;
  size: number;
}

/** An S3 multipart upload: its id and the key it completes at. */
export interface S3Multipart {
  uploadId: string;
  key: string;
}

/** An upload's state (u/ID/state.json). */
export interface S3UploadState {
  v: 1;
  record: UploadRecord;
  /** The multipart upload, at the target's key (a partial upload's: u/ID/data); made lazily. */
  multipart: S3Multipart | null;
  /** The parts counted: numbers 1, 2, 3... with no gap. */
  parts: S3Part[];
  /**
   * A writer uploading part `n` now, until `until` (ms since the epoch): others wait for the swap
   * after.
   */
  claim: { n: number; token: string; until: number } | null;
  /** The bytes past the last part. */
  tail: { key: string; size: number; etag: string } | null;
  /** Bytes stored: the parts' sizes plus the tail's. */
  offset: number;
  /** ms since the epoch: a server began completing the upload then. */
  completing: number | null;
  /** A complete partial upload's bytes (null: none). */
  data: { key: string; size: number } | null;
  /** Random on every write, so that no two writes share an ETag (the swap's version). */
  rev: string;
}

/** The longest a part upload (or copy) of `size` bytes may take: 20 s plus 1 s per MiB. */
export function partTimeoutMs(size: number): number {
  return 20_000 + Math.ceil(size / MiB) * 1_000;
}

/** How long a claim on a part number lasts: twice the part's time limit, and 5 s. */
export function claimMs(size: number): number {
  return 2 * partTimeoutMs(size) + 5_000;
}

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

export function sumParts(parts: readonly S3Part[]): number {
  return parts.reduce((sum, part) => sum + part.size, 0);
}

/** The state of a new upload: nothing stored yet. */
export function newS3UploadState(record: UploadRecord, rev: string): S3UploadState {
  return {
    v: 1,
    record,
    multipart: null,
    parts: [],
    claim: null,
    tail: null,
    offset: 0,
    completing: null,
    data: null,
    rev,
  };
}

export function encodeS3UploadState(state: S3UploadState): string {
  return `${JSON.stringify(state)}\n`;
}

type Fields = Record<string, unknown>;

/** `value` absent or null (→ null), or an object `check` accepts (→ itself); else undefined. */
function nullable<T>(value: unknown, check: (v: Fields) => boolean): T | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  return check(value as Fields) ? (value as T) : undefined;
}

/** The state in `text`, or undefined when it is not one (a torn or foreign object). */
export function decodeS3UploadState(text: string): S3UploadState | undefined {
  const value = parseJsonObject(text);
  if (value === undefined) return undefined;
  const s = value as Partial<Record<keyof S3UploadState, unknown>>;
  if (s.v !== 1 || typeof s.rev !== 'string' || !Array.isArray(s.parts)) return undefined;
  if (!isCount(s.offset)) return undefined;
  const parts = s.parts as unknown[];
  const numbered = parts.every((p, i) => {
    const part = p as Fields | null;
    return (
      typeof part === 'object' &&
      part !== null &&
      part.n === i + 1 &&
      typeof part.etag === 'string' &&
      isCount(part.size)
    );
  });
  if (!numbered) return undefined;
  const multipart = nullable<S3UploadState['multipart']>(
    s.multipart,
    (m) => typeof m.uploadId === 'string' && typeof m.key === 'string',
  );
  const claim = nullable<S3UploadState['claim']>(
    s.claim,
    (c) => isCount(c.n) && c.n > 0 && typeof c.token === 'string' && isCount(c.until),
  );
  const tail = nullable<S3UploadState['tail']>(
    s.tail,
    (t) => typeof t.key === 'string' && isCount(t.size) && typeof t.etag === 'string',
  );
  const data = nullable<S3UploadState['data']>(
    s.data,
    (d) => typeof d.key === 'string' && isCount(d.size),
  );
  const completing = s.completing ?? null;
  if (multipart === undefined || claim === undefined || tail === undefined) return undefined;
  if (data === undefined || (completing !== null && !isCount(completing))) return undefined;
  const record = decodeRecord(JSON.stringify(s.record));
  if (record === undefined) return undefined;
  return {
    v: 1,
    record,
    multipart,
    parts: parts as S3Part[],
    claim,
    tail,
    offset: s.offset,
    completing,
    data,
    rev: s.rev,
  };
}

export interface BusyOptions {
  /** The asking writer's claim token: its own claim does not make the upload busy. */
  token?: string | undefined;
  /** The asking completion's mark (the `completing` it wrote): its own completion neither. */
  mark?: number | undefined;
  /** An append, which takes over a live claim: only a completion makes it wait. @default false */
  takeover?: boolean | undefined;
}

/**
 * True at `now` while a completion runs, or (unless `takeover`) another writer's claim on a part
 * number lasts: no append may count anything then.
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
export function isS3UploadBusy(
  state: S3UploadState,
  now: number,
  options: BusyOptions = {},
): boolean {
  const { token, mark, takeover = false } = options;
  const completing = state.completing;
  if (completing !== null && completing !== mark && now - completing < COMPLETING_LEASE_MS) {
    return true;
  }
  if (takeover) return false;
  return state.claim !== null && state.claim.token !== token && state.claim.until > now;
}

/**
 * Whether `fresh`, written by another request since an append read `mine`, leaves the append its
 * place: still active, with the same offset, parts, tail, completion and claim (another request
 * only set a field, such as a deferred length). Otherwise nothing more of the append's body counts.
 */
export function keepsAppendPlace(fresh: S3UploadState, mine: S3UploadState): boolean {
  return (
    fresh.record.status === 'active' &&
    fresh.offset === mine.offset &&
    fresh.parts.length === mine.parts.length &&
    fresh.tail?.key === mine.tail?.key &&
    fresh.completing === mine.completing &&
    (fresh.claim === null ? mine.claim === null : fresh.claim.token === mine.claim?.token)
  );
}

/** The state with `part` counted (ending the claim; the tail is in it), active at `now`. */
export function countPart(state: S3UploadState, part: S3Part, now: number): S3UploadState {
  const parts = [...state.parts, part];
  return {
    ...state,
    parts,
    claim: null,
    tail: null,
    offset: sumParts(parts),
    record: { ...state.record, activity: now },
  };
}

/**
 * The state with `tail` as the bytes past the last part, active at `now`, and no claim: the writer
 * ending its append holds the claim if any (a part it gave up when the body stopped short).
 */
export function withTail(
  state: S3UploadState,
  tail: S3UploadState['tail'],
  now: number,
): S3UploadState {
  return {
    ...state,
    tail,
    claim: null,
    offset: sumParts(state.parts) + (tail?.size ?? 0),
    record: { ...state.record, activity: now },
  };
}
