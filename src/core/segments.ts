/**
 * Segment planning for the download client: which bytes are held, which are missing, and who
 * fetches what. Pure: spans in, spans out.
 *
 * A `Span` is half-open, `[start, end)`: `end` is the first byte *not* included, so a span's
 * length is `end - start` and adjacent spans share a boundary. (An HTTP `ByteRange` is inclusive;
 * `bytes=start-(end-1)` asks for a span.)
 */

/** Bytes `[start, end)`; `end` is exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** A segment some connection is fetching: its next byte is `cursor`, it stops before `end`. */
export interface ActiveSegment {
  cursor: number;
  end: number;
}

export interface PlanOptions {
  /** Most segments to plan, one per connection. @default 1 */
  connections?: number;
  /** No segment is split below this many bytes. @default 1 MiB */
  minBytes?: number;
  /** Spans already held; only the rest is planned. @default [] */
  done?: readonly Span[];
}

export interface SplitOptions {
  /** Both halves of a split keep at least this many bytes. @default 128 KiB */
  minBytes?: number;
}

function checkSpan(span: Span): void {
  if (!Number.isSafeInteger(span.start) || !Number.isSafeInteger(span.end)) {
    throw new RangeError(`Cannot use span [${span.start}, ${span.end}): bounds must be integers`);
  }
  if (span.start < 0 || span.end < span.start) {
    throw new RangeError(`Cannot use span [${span.start}, ${span.end}): bounds out of order`);
  }
}

/**
 * Adds `span` to a sorted, disjoint list of spans and returns a new list in which overlapping and
 * adjacent spans are merged. Empty spans change nothing.
 */
export function addSpan(spans: readonly Span[], span: Span): Span[] {
  checkSpan(span);
  if (span.end === span.start) return spans.map((s) => ({ ...s }));
  const out: Span[] = [];
  let merged = { ...span };
  let placed = false;
  for (const s of spans) {
    if (s.end < merged.start) out.push({ ...s });
    else if (merged.end < s.start) {
      if (!placed) {
        out.push(merged);
        placed = true;
      }
      out.push({ ...s });
    } else merged = { start: Math.min(s.start, merged.start), end: Math.max(s.end, merged.end) };
  }
  if (!placed) out.push(merged);
  return out;
}

/** Merges any list of spans into a sorted, disjoint list. */
export function normalizeSpans(spans: readonly Span[]): Span[] {
  let out: Span[] = [];
  for (const s of spans) out = addSpan(out, s);
  return out;
}

/** Total bytes covered by a sorted, disjoint list of spans. */
export function spanBytes(spans: readonly Span[]): number {
  let n = 0;
  for (const s of spans) n += s.end - s.start;
  return n;
}

/** The spans of `[0, size)` not covered by `done` (sorted, disjoint), in order. */
export function missingSpans(done: readonly Span[], size: number): Span[] {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot plan ${size} bytes: size must be a non-negative integer`);
  }
  const out: Span[] = [];
  let at = 0;
  for (const s of normalizeSpans(done)) {
    if (s.start >= size) break;
    if (s.start > at) out.push({ start: at, end: s.start });
    at = Math.max(at, s.end);
  }
  if (at < size) out.push({ start: at, end: size });
  return out;
}

/** Length of the run of held bytes that starts at byte 0. */
export function heldPrefix(done: readonly Span[]): number {
  const first = normalizeSpans(done)[0];
  return first !== undefined && first.start === 0 ? first.end : 0;
}

/**
 * Plans the segments to fetch: the missing spans of `[0, size)`, the largest split in half until
 * there is one per connection or no segment can be split without going below `minBytes`.
 * Returned in file order.
 */
export function planSegments(size: number, options: PlanOptions = {}): Span[] {
  const connections = options.connections ?? 1;
  const minBytes = options.minBytes ?? 1024 * 1024;
  if (!Number.isSafeInteger(connections) || connections < 1) {
    throw new RangeError(`Cannot plan for ${connections} connections: must be a positive integer`);
  }
  if (!Number.isSafeInteger(minBytes) || minBytes < 1) {
    throw new RangeError(`Cannot plan with minBytes ${minBytes}: must be a positive integer`);
  }
  const segments = missingSpans(options.done ?? [], size);
  while (segments.length < connections) {
    let largest = -1;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i] as Span;
      const best = segments[largest];
      if (best === undefined || s.end - s.start > best.end - best.start) largest = i;
    }
    const victim = segments[largest];
    if (victim === undefined || victim.end - victim.start < 2 * minBytes) break;
    const mid = victim.start + Math.ceil((victim.end - victim.start) / 2);
    segments.splice(largest, 1, { start: victim.start, end: mid }, { start: mid, end: victim.end });
  }
  return segments;
}

export interface Split {
  /** Index of the segment to shrink: its new `end` is `at`. */
  index: number;
  /** The new span `[at, oldEnd)` goes to the idle connection. */
  at: number;
}

/**
 * Work stealing: finds the active segment with the most bytes left and the point that splits its
 * remainder in half, so an idle connection can take the upper half. Returns undefined when no
 * remainder is at least `2 * minBytes` long (the tail is then left to its owner).
 */
export function splitLargest(
  active: readonly ActiveSegment[],
  options: SplitOptions = {},
): Split | undefined {
  const minBytes = options.minBytes ?? 128 * 1024;
  let index = -1;
  let left = 0;
  for (let i = 0; i < active.length; i++) {
    const s = active[i] as ActiveSegment;
    if (s.end - s.cursor > left) {
      left = s.end - s.cursor;
      index = i;
    }
  }
  const victim = active[index];
  if (victim === undefined || left < 2 * minBytes) return undefined;
  return { index, at: victim.cursor + Math.ceil(left / 2) };
}
