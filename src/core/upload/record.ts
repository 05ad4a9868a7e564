/**
 * One upload's record on disk (`info.json` in its folder of the store), its codec, and the rule that
 * says which offset may be claimed after a crash. Pure: no I/O here.
 *
 * What survives what (issue 12, DESIGN.md rule 8):
 * - `durable` is written only after the data up to it was fdatasync'ed: it survives a power cut.
 *   The server syncs at checkpoints: after a PATCH when the last one is older than its sync
 *   interval (1 s), in the background so no PATCH waits for the disk (server/uploads/checkpoints.ts);
 *   at once when a body stops early or in a new boot; and always before completion. A power cut
 *   loses at most about a second (plus one sync) of confirmed bytes, which the client sends again
 *   from the offset HEAD gives it.
 * - The data file's size is trusted in the same boot only (a `kill -9` keeps the page cache, so
 *   every byte a write returned is there); after a reboot only `durable` counts, and bytes past it
 *   are cut off. `boot` names the boot the record was last written in.
 * - A chunk with a checksum is unverified until its digest matched: while it is being written, a
 *   `pending` marker holds the offset it started at, and a crash meanwhile makes the offset go back
 *   to it (its bytes are discarded, as tus's checksum extension requires).
 */
import { isCount, parseJsonObject } from './json-object.js';

export type UploadProtocol = 'tus' | 'ietf' | 'put';

export type UploadStatus = 'active' | 'complete' | 'expired' | 'terminated';

export interface UploadRecord {
  /** Format version of the record. */
  v: 1;
  id: string;
  protocol: UploadProtocol;
  status: UploadStatus;
  /** The target path below the served folder; null for a tus partial upload (no name). */
  target: string[] | null;
  /** The declared length; null while deferred. */
  length: number | null;
  /** The raw Upload-Metadata (tus), echoed on HEAD. */
  metadata: string | null;
  /** tus concatenation: 'partial', or the final's partial upload URLs. */
  concat: { kind: 'partial' } | { kind: 'final'; urls: string[] } | null;
  /** Bytes synced to disk and declared (survives a power cut). */
  durable: number;
  /** The boot the record was written in (Linux boot_id). */
  boot: string;
  /**
   * ms since the epoch: creation, and the last activity (expiry counts from it; the store also
   * counts the data file's last write).
   */
  created: number;
  activity: number;
  /** ms since the epoch of the last checkpoint (`durable` written); 0 before the first. */
  synced: number;
}

export function encodeRecord(record: UploadRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** The record in `text`, or undefined when it is not one (a torn or foreign file). */
export function decodeRecord(text: string): UploadRecord | undefined {
  const value = parseJsonObject(text);
  if (value === undefined) return undefined;
  const r = value as Partial<UploadRecord>;
  if (r.v !== 1 || typeof r.id !== 'string' || typeof r.boot !== 'string') return undefined;
  if (!['tus', 'ietf', 'put'].includes(r.protocol as string)) return undefined;
  if (!['active', 'complete', 'expired', 'terminated'].includes(r.status as string)) {
    return undefined;
  }
  if (r.length !== null && !isCount(r.length)) return undefined;
  if (!isCount(r.durable) || !isCount(r.created) || !isCount(r.activity)) return undefined;
  if (r.synced !== undefined && !isCount(r.synced)) return undefined;
  if (
    r.target !== null &&
    !(Array.isArray(r.target) && r.target.every((s) => typeof s === 'string'))
  ) {
    return undefined;
  }
  return { ...(r as UploadRecord), synced: r.synced ?? 0 };
}

/**
 * The offset an upload may claim: never more than the bytes on disk, never an unverified chunk,
 * and after a reboot never more than was synced.
 */
export function claimableOffset(
  record: UploadRecord,
  facts: { size: number; pending: number | undefined; boot: string },
): number {
  if (record.boot !== facts.boot) return Math.min(facts.size, record.durable);
  return Math.min(facts.size, facts.pending ?? Number.POSITIVE_INFINITY);
}

/**
 * The record of a new upload: active, nothing stored or synced yet, written in boot `boot` at
 * `now` (`synced` 0 on a disk: no checkpoint yet; a store whose writes are durable passes `now`).
 */
export function newRecord(
  input: Pick<UploadRecord, 'id' | 'protocol' | 'target' | 'length' | 'metadata' | 'concat'>,
  facts: { boot: string; now: number; synced: number },
): UploadRecord {
  return {
    v: 1,
    id: input.id,
    protocol: input.protocol,
    status: 'active',
    target: input.target,
    length: input.length,
    metadata: input.metadata,
    concat: input.concat,
    durable: 0,
    boot: facts.boot,
    created: facts.now,
    activity: facts.now,
    synced: facts.synced,
  };
}

/** Whether an active upload has expired at `now`. */
export function isExpired(record: UploadRecord, now: number, expiresMs: number): boolean {
  return record.status === 'active' && record.activity + expiresMs <= now;
}
