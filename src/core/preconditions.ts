/**
 * Conditional requests, RFC 9110 §13.1 (the fields) and §13.2.2 (the order of evaluation).
 */
import {
  type ETagList,
  isETag,
  parseETagList,
  parseHttpDate,
  strongMatch,
  weakMatch,
} from './validators.js';

export interface ConditionalHeaders {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

export interface CurrentValidators {
  /** The strong entity-tag of the selected representation. */
  etag: string;
  /** Last-Modified in milliseconds, already truncated to whole seconds. */
  lastModified: number;
}

export type PreconditionOutcome = 'proceed' | 'not-modified' | 'failed';

function anyMatches(list: ETagList, current: string, match: (a: string, b: string) => boolean) {
  return list.kind === 'any' || list.tags.some((tag) => match(tag, current));
}

/**
 * Evaluates the preconditions of a GET or HEAD in the order of RFC 9110 §13.2.2. If-Range is not
 * part of this: it only decides whether a Range applies (see `ifRangeAllows`).
 */
export function evaluatePreconditions(
  headers: ConditionalHeaders,
  current: CurrentValidators,
): PreconditionOutcome {
  // Step 1: If-Match uses the strong comparison (§13.1.1); false → 412.
  if (headers.ifMatch !== undefined) {
    if (!anyMatches(parseETagList(headers.ifMatch), current.etag, strongMatch)) return 'failed';
  } else if (headers.ifUnmodifiedSince !== undefined) {
    // Step 2: If-Unmodified-Since only without If-Match; an invalid date is ignored (§13.1.4).
    const date = parseHttpDate(headers.ifUnmodifiedSince);
    if (date !== undefined && current.lastModified > date) return 'failed';
  }
  // Step 3: If-None-Match uses the weak comparison (§13.1.2); true on GET/HEAD → 304.
  if (headers.ifNoneMatch !== undefined) {
    if (anyMatches(parseETagList(headers.ifNoneMatch), current.etag, weakMatch))
      return 'not-modified';
  } else if (headers.ifModifiedSince !== undefined) {
    // Step 4: If-Modified-Since only without If-None-Match; an invalid date is ignored (§13.1.3).
    const date = parseHttpDate(headers.ifModifiedSince);
    if (date !== undefined && current.lastModified <= date) return 'not-modified';
  }
  return 'proceed';
}

/**
 * RFC 9110 §13.1.5: whether a Range applies under an If-Range header. An entity-tag must match by
 * the strong comparison (a weak tag never does); a date must equal Last-Modified exactly. Anything
 * else, a malformed value included, means "send the whole representation".
 */
export function ifRangeAllows(ifRange: string | undefined, current: CurrentValidators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (isETag(value)) return strongMatch(value, current.etag);
  const date = parseHttpDate(value);
  return date !== undefined && date === current.lastModified;
}
