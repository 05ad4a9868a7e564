/**
 * The download journal: what a partial download holds and which remote version it came from.
 * Pure: `encodeJournal()`/`decodeJournal()` turn it into text and back; the file I/O (write to a
 * temporary file, fsync, rename) is in `client/store/journal-file.ts`.
 *
 * Format (version 1), one line of JSON:
 *
 * ```json
 * {"format":"ranged-journal","version":1,"url":"https://example.com/big.iso","size":1048576,
 *  "etag":"\"abc\"","lastModified":"Sun, 06 Nov 1994 08:49:37 GMT","acceptRanges":true,
 *  "done":[[0,65536],[524288,600000]]}
 * ```
 *
 * - `url`: the URL the user asked for (not the one redirects led to).
 * - `size`: the complete length in bytes, or `null` when the server did not say.
 * - `etag`, `lastModified`: the validators of the version being fetched, absent when not sent.
 * - `acceptRanges`: whether the server honoured a Range request.
 * - `done`: sorted, disjoint, half-open `[start, end)` spans of bytes on disk.
 * - `boot` (only in a live journal): the boot id of the machine when it was written.
 *
 * A download keeps two journals. The durable one (no `boot`) claims only bytes that were
 * fdatasync'd before it was written, and is itself fsync'd: it survives a crash of the machine.
 * The live one (with `boot`) claims every byte written so far and is renamed into place without
 * any fsync: a killed process (kill -9, Ctrl-C) loses nothing it wrote, because the kernel's page
 * cache holds it; only a crash of the machine or a power cut loses unsynced writes, and that
 * starts a new boot. So the live journal is trusted only in the boot that wrote it, and only for
 * the same download as the durable one (`liveVerdict()`).
 */
import { addSpan, normalizeSpans, type Span } from './segments.js';

export const JOURNAL_FORMAT = 'ranged-journal';
export const JOURNAL_VERSION = 1;

export interface Journal {
  /** The URL the user asked for. */
  url: string;
  /** Complete length of the representation; undefined when unknown (no Content-Length). */
  size: number | undefined;
  /** Entity-tag of the version being fetched (may be weak). */
  etag: string | undefined;
  /** Last-Modified of the version being fetched, as sent. */
  lastModified: string | undefined;
  /** Whether the server answered a Range request with 206. */
  acceptRanges: boolean;
  /** Bytes on disk: sorted, disjoint, half-open spans. */
  done: Span[];
  /** Live journals only: the boot (Linux: /proc/sys/kernel/random/boot_id) whose page cache
   * holds `done`. */
  boot?: string | undefined;
}

export type DecodedJournal =
  | { kind: 'ok'; journal: Journal }
  /** Written by a newer ranged: never guessed at. */
  | { kind: 'unsupported'; version: number }
  /** Not a journal, or an inconsistent one. */
  | { kind: 'invalid'; reason: string };

/** A journal for a new download that holds nothing yet. */
export function newJournal(
  url: string,
  remote: Pick<Journal, 'size' | 'etag' | 'lastModified' | 'acceptRanges'>,
): Journal {
  return { url, ...remote, done: [] };
}

/**
 * Returns a copy of `journal` that also holds `span`. Only record a span after its bytes are on
 * disk (house rule 8: durable before declared).
 */
export function recordProgress(journal: Journal, span: Span): Journal {
  if (journal.size !== undefined && span.end > journal.size) {
    throw new RangeError(
      `Cannot record bytes [${span.start}, ${span.end}): past the size ${journal.size}`,
    );
  }
  return { ...journal, done: addSpan(journal.done, span) };
}

export function encodeJournal(journal: Journal): string {
  const value: Record<string, unknown> = {
    format: JOURNAL_FORMAT,
    version: JOURNAL_VERSION,
    url: journal.url,
    size: journal.size ?? null,
  };
  if (journal.etag !== undefined) value.etag = journal.etag;
  if (journal.lastModified !== undefined) value.lastModified = journal.lastModified;
  value.acceptRanges = journal.acceptRanges;
  value.done = normalizeSpans(journal.done).map((s) => [s.start, s.end]);
  if (journal.boot !== undefined) value.boot = journal.boot;
  return `${JSON.stringify(value)}\n`;
}

/** Whether a live journal adds its spans to a durable one, and if not, why (`liveVerdict()`). */
export type LiveVerdict =
  | { kind: 'trusted'; done: Span[] }
  /** Written in another boot: the machine crashed or restarted since. */
  | { kind: 'other-boot' }
  /** Of another download (URL, size, validators), or not a live journal at all. */
  | { kind: 'foreign' };

/**
 * What the live journal `live` adds to the durable `journal` on a machine whose boot id is
 * `boot` (undefined: unknown, nothing is trusted): when it was written in this boot for the same
 * download, every span of both.
 */
export function liveVerdict(
  journal: Journal,
  live: Journal,
  boot: string | undefined,
): LiveVerdict {
  const same =
    live.boot !== undefined &&
    live.url === journal.url &&
    live.size === journal.size &&
    live.etag === journal.etag &&
    live.lastModified === journal.lastModified &&
    live.acceptRanges === journal.acceptRanges;
  if (!same) return { kind: 'foreign' };
  if (boot === undefined || live.boot !== boot) return { kind: 'other-boot' };
  return { kind: 'trusted', done: normalizeSpans([...journal.done, ...live.done]) };
}

function isPosition(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Reads a journal; anything that is not exactly a valid version-1 journal is rejected. */
export function decodeJournal(text: string): DecodedJournal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'not a JSON object' };
  }
  const v = value as Record<string, unknown>;
  if (v.format !== JOURNAL_FORMAT) return { kind: 'invalid', reason: 'not a ranged journal' };
  if (typeof v.version !== 'number' || !Number.isSafeInteger(v.version) || v.version < 1) {
    return { kind: 'invalid', reason: 'no format version' };
  }
  if (v.version > JOURNAL_VERSION) return { kind: 'unsupported', version: v.version };
  if (typeof v.url !== 'string' || v.url === '') return { kind: 'invalid', reason: 'no URL' };
  if (v.size !== null && !isPosition(v.size)) return { kind: 'invalid', reason: 'bad size' };
  if (v.etag !== undefined && typeof v.etag !== 'string') {
    return { kind: 'invalid', reason: 'bad ETag' };
  }
  if (v.lastModified !== undefined && typeof v.lastModified !== 'string') {
    return { kind: 'invalid', reason: 'bad Last-Modified' };
  }
  if (typeof v.acceptRanges !== 'boolean') return { kind: 'invalid', reason: 'bad acceptRanges' };
  if (!Array.isArray(v.done)) return { kind: 'invalid', reason: 'no done spans' };
  const size = v.size === null ? undefined : v.size;
  const done = decodeSpans(v.done, size);
  if (typeof done === 'string') return { kind: 'invalid', reason: done };
  if (v.boot !== undefined && (typeof v.boot !== 'string' || v.boot === '')) {
    return { kind: 'invalid', reason: 'bad boot id' };
  }
  if (size === undefined && !isPrefix(done)) {
    return { kind: 'invalid', reason: 'spans without a size' };
  }
  return {
    kind: 'ok',
    journal: {
      url: v.url,
      size,
      etag: v.etag as string | undefined,
      lastModified: v.lastModified as string | undefined,
      acceptRanges: v.acceptRanges,
      done,
      ...(v.boot === undefined ? {} : { boot: v.boot }),
    },
  };
}

/** At most one span, starting at 0 (all a journal without a size can hold). */
function isPrefix(spans: Span[]): boolean {
  return spans.length === 0 || (spans.length === 1 && spans[0]?.start === 0);
}

/** Sorted, disjoint (not even adjacent) `[start, end)` pairs within `size`, or why not. */
function decodeSpans(items: unknown[], size: number | undefined): Span[] | string {
  const spans: Span[] = [];
  let previousEnd = -1;
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 2) return 'bad span';
    const [start, end] = item as unknown[];
    if (!isPosition(start) || !isPosition(end) || end <= start) return 'bad span';
    // The encoder merges adjacent spans.
    if (start <= previousEnd) return 'spans out of order';
    if (size !== undefined && end > size) return 'span past the size';
    spans.push({ start, end });
    previousEnd = end;
  }
  return spans;
}
