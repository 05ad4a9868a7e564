/**
 * Range header parsing, RFC 9110 §14.1 (Range units, range-set) and §14.2 (Range).
 *
 * A header from the network produces a result, never an exception: every outcome the RFC
 * distinguishes has its own `kind`.
 */

/** A byte range, both ends inclusive, as in `Content-Range: bytes start-end/size`. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeRequest =
  /** No Range header. */
  | { kind: 'absent' }
  /** A header the server ignores and answers with 200: another unit, bad syntax, too many ranges. */
  | { kind: 'ignored'; reason: string }
  /** Valid, but no range overlaps the representation: 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' }
  /** Satisfiable ranges, clamped to the size, coalesced, in the order they were asked for. */
  | { kind: 'ranges'; ranges: ByteRange[] };

export interface ParseRangeOptions {
  /** Most range-specs one header may hold; more is ignored (RFC 9110 §14.2 allows it). @default 100 */
  maxRanges?: number;
}

const DIGITS = /^[0-9]+$/;

/** Parses a non-negative integer strictly: digits only; a value too large to be exact clamps. */
export function parsePosition(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

type Spec = { first: number; last: number | undefined } | { suffix: number };

// RFC 9110 §14.1.1: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length.
function parseSpec(text: string): Spec | undefined {
  const dash = text.indexOf('-');
  if (dash === -1) return undefined;
  const left = text.slice(0, dash);
  const right = text.slice(dash + 1);
  if (left === '') {
    const suffix = parsePosition(right);
    return suffix === undefined ? undefined : { suffix };
  }
  const first = parsePosition(left);
  if (first === undefined) return undefined;
  if (right === '') return { first, last: undefined };
  const last = parsePosition(right);
  // §14.1.1: "An int-range is invalid if the last-pos value is present and less than the
  // first-pos."
  if (last === undefined || last < first) return undefined;
  return { first, last };
}

/**
 * Parses a Range header value against a representation of `size` bytes.
 *
 * - The unit is case-insensitive (§14.1: "range-unit = token", tokens compare case-insensitively);
 *   any unit other than `bytes` is ignored (§14.2: "MAY ignore").
 * - Optional whitespace is allowed around the commas of the range-set, and empty list elements
 *   are skipped (§5.6.1); a syntactically invalid range-spec makes the whole header ignored.
 * - A range is satisfiable if its first-pos is below the size, or if it is a suffix-range with a
 *   non-zero suffix-length (§14.1.1); a last-pos past the end is clamped.
 * - A zero-length representation has no byte to select, so any Range is ignored (200, empty body).
 */
export function parseRange(
  header: string | undefined,
  size: number,
  options: ParseRangeOptions = {},
): RangeRequest {
  if (header === undefined) return { kind: 'absent' };
  const maxRanges = options.maxRanges ?? 100;
  const eq = header.indexOf('=');
  if (eq === -1) return { kind: 'ignored', reason: 'no "=" after the range unit' };
  const unit = header.slice(0, eq).trim();
  if (unit.toLowerCase() !== 'bytes')
    return { kind: 'ignored', reason: `unit "${unit}" is not bytes` };

  const specs: Spec[] = [];
  for (const element of header.slice(eq + 1).split(',')) {
    const text = element.trim(); // OWS around list separators only
    if (text === '') continue;
    const spec = parseSpec(text);
    if (spec === undefined) return { kind: 'ignored', reason: `invalid range-spec "${text}"` };
    specs.push(spec);
    if (specs.length > maxRanges) {
      return { kind: 'ignored', reason: `more than ${maxRanges} ranges` };
    }
  }
  if (specs.length === 0) return { kind: 'ignored', reason: 'empty range-set' };
  if (size === 0) return { kind: 'ignored', reason: 'the representation is empty' };

  const satisfiable: ByteRange[] = [];
  for (const spec of specs) {
    if ('suffix' in spec) {
      // §14.1.1: a suffix-range is satisfiable if the suffix-length is not zero; a suffix longer
      // than the representation selects all of it.
      if (spec.suffix > 0)
        satisfiable.push({ start: Math.max(0, size - spec.suffix), end: size - 1 });
    } else if (spec.first < size) {
      satisfiable.push({ start: spec.first, end: Math.min(spec.last ?? size - 1, size - 1) });
    }
  }
  if (satisfiable.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesceRanges(satisfiable) };
}

/**
 * Merges overlapping and adjacent ranges (RFC 9110 §14.2: a server MAY coalesce), keeping the
 * order in which each merged range was first asked for.
 */
export function coalesceRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const indexed = ranges.map((r, index) => ({ start: r.start, end: r.end, index }));
  indexed.sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number; index: number }[] = [];
  for (const r of indexed) {
    const last = merged.at(-1);
    if (last !== undefined && r.start <= last.end + 1) {
      last.end = Math.max(last.end, r.end);
      last.index = Math.min(last.index, r.index);
    } else {
      merged.push({ ...r });
    }
  }
  merged.sort((a, b) => a.index - b.index);
  return merged.map(({ start, end }) => ({ start, end }));
}
