/**
 * The download journal: what a partial download holds and which remote version it came from.
 * Pure: `encodeJournal()`/`decodeJournal()` turn it into text and back; the file I/O (write to a
 * temporary file, fsync, rename) is in `client/journal-file.ts`.
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
 * - `done`: sorted, disjoint, half-open `[start, end)` spans of bytes known to be on disk.
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
  return `${JSON.stringify(value)}\n`;
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
  const done: Span[] = [];
  let previousEnd = -1;
  for (const item of v.done as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2) return { kind: 'invalid', reason: 'bad span' };
    const [start, end] = item as unknown[];
    if (!isPosition(start) || !isPosition(end) || end <= start) {
      return { kind: 'invalid', reason: 'bad span' };
    }
    // Spans must be sorted and disjoint (not even adjacent: the encoder merges those).
    if (start <= previousEnd) return { kind: 'invalid', reason: 'spans out of order' };
    if (size !== undefined && end > size) return { kind: 'invalid', reason: 'span past the size' };
    done.push({ start, end });
    previousEnd = end;
  }
  if (size === undefined && (done.length > 1 || (done[0] !== undefined && done[0].start !== 0))) {
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
    },
  };
}
