/**
 * Whether saved bytes can be trusted: the If-Range value to send, and the verdict on every response
 * the download client receives. Pure: header values in, a verdict out (house rule 2).
 */
import { parseContentRange } from './content-range.js';
import type { Journal } from './journal.js';
import { heldPrefix } from './segments.js';
import { isETag, isWeak, parseHttpDate } from './validators.js';

/** The identity of one version of a remote file, as recorded in the journal. */
export interface RemoteVersion {
  size: number | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
}

/**
 * The If-Range value for a resumed request: the strong ETag if there is one, else the
 * Last-Modified date; undefined when neither can be used.
 */
export function ifRangeValue(
  version: Pick<RemoteVersion, 'etag' | 'lastModified'>,
): string | undefined {
  // RFC 9110 §13.1.5: "A client MUST NOT generate an If-Range header field containing an
  // entity-tag that is marked as weak."
  if (version.etag !== undefined && isETag(version.etag) && !isWeak(version.etag))
    return version.etag;
  // §13.1.5: a date is only usable if it is a valid HTTP-date (the client cannot know whether it
  // is strong; the server decides).
  if (version.lastModified !== undefined && parseHttpDate(version.lastModified) !== undefined) {
    return version.lastModified;
  }
  return undefined;
}

/**
 * Whether a journal for `saved` may be continued at all: bytes held from another version must
 * never be spliced with new ones, so a resume needs a usable validator to send in If-Range.
 */
export function canResume(
  saved: RemoteVersion,
): { kind: 'resume'; ifRange: string } | { kind: 'restart'; reason: string } {
  const ifRange = ifRangeValue(saved);
  if (ifRange === undefined) {
    return {
      kind: 'restart',
      reason:
        saved.etag !== undefined
          ? 'the server sent only a weak ETag and no Last-Modified, so an unchanged file cannot be proven'
          : 'the server sent no ETag or Last-Modified, so an unchanged file cannot be proven',
    };
  }
  return { kind: 'resume', ifRange };
}

/** What the client asked for: `bytes=start-` (end undefined) or `bytes=start-(end-1)`. */
export interface Asked {
  /** First byte asked for; 0 for a request without Range. */
  start: number;
  /** Exclusive end, undefined for an open-ended range. */
  end: number | undefined;
  /** Whether the request carried a Range header at all. */
  ranged: boolean;
}

/** The parts of a response the verdict depends on (header values as received). */
export interface ResponseFacts {
  status: number;
  contentRange?: string | undefined;
  contentLength?: string | undefined;
  contentEncoding?: string | undefined;
  etag?: string | undefined;
  lastModified?: string | undefined;
}

export type Verdict =
  /**
   * A 206 from the expected version whose body covers the bytes asked for. The body holds
   * `[start, end)` (`end` exclusive); its first `skip` bytes precede the asked start (a server
   * that rounds ranges down) and are to be read past, not written.
   */
  | {
      kind: 'partial';
      start: number;
      end: number;
      skip: number;
      size: number;
      version: RemoteVersion;
    }
  /** A 200 with the whole representation, consistent with the expected version. */
  | { kind: 'full'; version: RemoteVersion; sameVersion: boolean }
  /** The remote file is not the version the journal holds: start over. */
  | { kind: 'changed'; reason: string; version: RemoteVersion }
  /** A 416 whose `bytes *\/N` confirms that every byte of the expected size is already held. */
  | { kind: 'complete' }
  /** A 206 whose Content-Range does not cover the bytes asked for (worth one fresh request). */
  | { kind: 'misplaced'; reason: string }
  /** The server broke the protocol (a 206 without a usable Content-Range, an encoded body). */
  | { kind: 'invalid'; reason: string }
  /** Any other status: the caller decides between retry and failure. */
  | { kind: 'status'; status: number };

function versionOf(facts: ResponseFacts, size: number | undefined): RemoteVersion {
  return { size, etag: facts.etag, lastModified: facts.lastModified };
}

/**
 * Compares the validators a response carries with the expected version. A validator the response
 * omits proves nothing either way; one that differs proves a change.
 */
export function versionChange(expected: RemoteVersion, actual: RemoteVersion): string | undefined {
  if (expected.size !== undefined && actual.size !== undefined && expected.size !== actual.size) {
    return `size is ${actual.size} bytes, expected ${expected.size}`;
  }
  if (expected.etag !== undefined && actual.etag !== undefined && expected.etag !== actual.etag) {
    return `ETag is ${actual.etag}, expected ${expected.etag}`;
  }
  if (
    expected.lastModified !== undefined &&
    actual.lastModified !== undefined &&
    expected.lastModified !== actual.lastModified
  ) {
    return `Last-Modified is "${actual.lastModified}", expected "${expected.lastModified}"`;
  }
  if (
    expected.etag !== undefined &&
    actual.etag === undefined &&
    actual.lastModified === undefined
  ) {
    return 'the response carries no validator';
  }
  return undefined;
}

function parseLength(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*[0-9]+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The verdict on one response to a download request. `expected` is the version the journal holds
 * (undefined on a fresh download, when any version is welcome).
 *
 * A 206 is checked like undici's RetryHandler does and more: the Content-Range start, end and
 * complete length must be what was asked and what the journal expects, and its own validators
 * must match (some servers ignore If-Range).
 */
export function checkResponse(
  asked: Asked,
  facts: ResponseFacts,
  expected: RemoteVersion | undefined,
): Verdict {
  // The client always sends Accept-Encoding: identity; an encoded body has other bytes and other
  // offsets than the file (RFC 9110 §8.4), so it is never written at byte positions.
  const encoding = facts.contentEncoding?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    return { kind: 'invalid', reason: `the server sent a ${encoding}-encoded body` };
  }
  if (facts.status === 206) {
    if (!asked.ranged)
      return { kind: 'invalid', reason: 'the server sent 206 to a request without Range' };
    const cr = parseContentRange(facts.contentRange);
    if (cr === undefined || cr.kind !== 'range') {
      return {
        kind: 'invalid',
        reason: `the 206 has Content-Range ${JSON.stringify(facts.contentRange ?? null)}`,
      };
    }
    if (cr.size === undefined) {
      return {
        kind: 'invalid',
        reason: `the 206 has no complete length in "${facts.contentRange}"`,
      };
    }
    const version = versionOf(facts, cr.size);
    if (expected !== undefined) {
      const change = versionChange(expected, version);
      if (change !== undefined) return { kind: 'changed', reason: change, version };
    }
    const end = cr.end + 1;
    const wantedEnd = asked.end === undefined ? cr.size : Math.min(asked.end, cr.size);
    // RFC 9110 §14.4: a server may send more than was asked (it "MAY ignore or reject a range
    // request" in part, e.g. round a start down to a block). Bytes that cover the asked range,
    // from the same version, are usable: the client reads past the extra prefix.
    if (cr.start > asked.start || end < wantedEnd) {
      return {
        kind: 'misplaced',
        reason: `asked for bytes ${asked.start}-${wantedEnd - 1}, the 206 has "${facts.contentRange}"`,
      };
    }
    return {
      kind: 'partial',
      start: cr.start,
      end,
      skip: asked.start - cr.start,
      size: cr.size,
      version,
    };
  }
  if (facts.status === 200) {
    const version = versionOf(facts, parseLength(facts.contentLength));
    if (expected === undefined) return { kind: 'full', version, sameVersion: true };
    const change = versionChange(expected, version);
    if (change !== undefined) return { kind: 'changed', reason: change, version };
    // RFC 9110 §13.1.5: a 200 to a request with If-Range means the validator did not match, unless
    // the server ignores Range altogether. Same validators: the server ignored Range.
    const proven = ifRangeValue(expected) !== undefined && ifRangeValue(version) !== undefined;
    return { kind: 'full', version, sameVersion: proven };
  }
  if (facts.status === 416) {
    // §15.5.17: a 416 carries `Content-Range: bytes */complete-length`.
    const cr = parseContentRange(facts.contentRange);
    if (cr?.kind === 'unsatisfied') {
      if (expected?.size !== undefined && cr.size === expected.size && asked.start >= cr.size) {
        return { kind: 'complete' };
      }
      if (expected === undefined && cr.size === 0 && asked.start === 0) return { kind: 'complete' };
      return {
        kind: 'changed',
        reason: `the server has ${cr.size} bytes, expected ${expected?.size ?? 'more'}`,
        version: { size: cr.size, etag: facts.etag, lastModified: facts.lastModified },
      };
    }
    return { kind: 'status', status: 416 };
  }
  return { kind: 'status', status: facts.status };
}

/**
 * The complete length a verdict's response declares: the Content-Length of a 200, the complete
 * length of a Content-Range (a 206, or a 416's `bytes *\/N`); undefined when it declares none (a
 * body without a length, a status) — such a body is bounded while it is read, not here.
 */
export function declaredSize(verdict: Verdict): number | undefined {
  switch (verdict.kind) {
    case 'partial':
      return verdict.size;
    case 'full':
    case 'changed':
      return verdict.version.size;
    default:
      return undefined;
  }
}

/** What a journal found on disk is worth, given the part file beside it. */
export type Trust =
  /** Its bytes may be continued (still to be confirmed by the probe's If-Range). */
  | { kind: 'resume' }
  /**
   * It was written for another URL but could hold the same file (a re-signed link, a moved file):
   * continued only once the probe shows the same size and validator (`confirmMove()`).
   */
  | { kind: 'moved'; url: string }
  /** It was written for another URL and cannot be shown to hold the same file. */
  | { kind: 'foreign'; url: string }
  /** The part file is gone; `held` says whether the journal claimed any bytes. */
  | { kind: 'part-missing'; held: boolean }
  /** The part file has another size than the journal implies (truncated, replaced). */
  | { kind: 'part-size'; size: number; expected: number }
  /** No validator could prove the remote file unchanged. */
  | { kind: 'unprovable'; reason: string };

/**
 * Whether the journal's bytes can be trusted: it must be for `url`, the part file must exist with
 * the size the journal implies (the full size, or at least the held prefix when the size is
 * unknown), and a resume needs a validator for If-Range (`canResume()`).
 */
export function trustJournal(
  journal: Journal,
  facts: { url: string; partSize: number | undefined },
): Trust {
  if (journal.url === facts.url) return trustHere(journal, facts.partSize);
  // Another URL: only a journal that would be trusted here, and whose file an answer can identify.
  const here = trustHere(journal, facts.partSize);
  return here.kind === 'resume' && moveProof(journal) !== undefined
    ? { kind: 'moved', url: journal.url }
    : { kind: 'foreign', url: journal.url };
}

function trustHere(journal: Journal, partSize: number | undefined): Trust {
  if (partSize === undefined) return { kind: 'part-missing', held: journal.done.length > 0 };
  const expected = journal.size ?? heldPrefix(journal.done);
  if (journal.size === undefined ? partSize < expected : partSize !== expected) {
    return { kind: 'part-size', size: partSize, expected };
  }
  if (journal.done.length === 0) return { kind: 'resume' };
  const verdict = canResume(journal);
  return verdict.kind === 'restart'
    ? { kind: 'unprovable', reason: verdict.reason }
    : { kind: 'resume' };
}

/**
 * What identifies a journal's file at another URL: its size and its strong ETag, or its
 * Last-Modified when it has no ETag (a weak ETag proves nothing, RFC 9110 §8.8.1); undefined when
 * nothing can.
 */
function moveProof(
  saved: RemoteVersion,
): { size: number; field: 'ETag' | 'Last-Modified'; value: string } | undefined {
  if (saved.size === undefined) return undefined;
  if (saved.etag !== undefined) {
    return isETag(saved.etag) && !isWeak(saved.etag)
      ? { size: saved.size, field: 'ETag', value: saved.etag }
      : undefined;
  }
  if (saved.lastModified !== undefined && parseHttpDate(saved.lastModified) !== undefined) {
    return { size: saved.size, field: 'Last-Modified', value: saved.lastModified };
  }
  return undefined;
}

export type MoveCheck =
  /** The same file: continue, say `notice`, record the new URL. */
  | { kind: 'same'; notice: string }
  /** Not shown to be the same file. */
  | { kind: 'different'; reason: string };

/**
 * Whether the answer from a new URL serves the file a journal written for another URL holds: the
 * same complete length and the same strong ETag (or the same Last-Modified where the journal has
 * no ETag). A validator the answer leaves out proves nothing, so it fails the check (unlike
 * `versionChange()`, where the URL itself vouches for the file).
 */
export function confirmMove(saved: RemoteVersion, verdict: Verdict): MoveCheck {
  const proof = moveProof(saved);
  if (proof === undefined) {
    return { kind: 'different', reason: 'the journal has no size and strong validator to compare' };
  }
  if (verdict.kind !== 'partial' && verdict.kind !== 'full' && verdict.kind !== 'changed') {
    return { kind: 'different', reason: 'the answer does not identify the file' };
  }
  const actual = verdict.version;
  if (actual.size !== proof.size) {
    return {
      kind: 'different',
      reason: `its size is ${actual.size ?? 'unknown'}, the journal's ${proof.size} bytes`,
    };
  }
  const value = proof.field === 'ETag' ? actual.etag : actual.lastModified;
  if (value !== proof.value) {
    const got = value === undefined ? 'none' : value;
    return {
      kind: 'different',
      reason: `its ${proof.field} is ${got}, the journal's ${proof.value}`,
    };
  }
  const shown = proof.field === 'ETag' ? proof.value : `"${proof.value}"`;
  return {
    kind: 'same',
    notice: `Resuming from another URL: same size and ${proof.field} ${shown}`,
  };
}
