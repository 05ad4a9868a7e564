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

export interface SegmentPlanOptions {
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
export function planSegments(size: number, options: SegmentPlanOptions = {}): Span[] {
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

/** A segment in flight with what is known of its speed, for the tail decisions. */
export interface RunningSegment extends ActiveSegment {
  /** Bytes per second over the last few seconds; undefined until measured (never raced then). */
  bytesPerSecond: number | undefined;
  /** Whether two connections fetch, or fetched, this remainder (never raced again nor split). */
  raced: boolean;
}

export type IdleAction =
  /** Take `[at, end)` of segment `index`, whose owner stops at `at` (work stealing). */
  | { kind: 'steal'; index: number; at: number }
  /** Fetch the remainder `[cursor, end)` of segment `index` too; the first to get there wins. */
  | { kind: 'race'; index: number }
  /** Nothing worth doing: the connection can close. */
  | { kind: 'none' };

export interface IdleOptions {
  /** Both halves of a steal keep at least this many bytes. @default 128 KiB */
  minBytes?: number;
  /** Only race a remainder expected to take longer than this at its current speed. @default 500 */
  minRaceMs?: number;
}

/**
 * What a connection that has run out of work does (ARCHITECTURE.md field gap 4). First it steals the upper
 * half of the largest remainder that can be split (`splitLargest()`). When every remainder is too
 * small to split, it races the remainder expected to finish last (remaining bytes over its
 * measured speed; 0 bytes/s, a stalled connection, is slowest), so a slow connection cannot hold
 * back the last bytes. A segment whose speed is not measured yet is not raced (it may just have
 * started), and segments already raced are neither split nor raced again.
 */
export function idleAction(
  active: readonly RunningSegment[],
  options: IdleOptions = {},
): IdleAction {
  const free = active.map((s, i) => ({ s, i })).filter(({ s }) => !s.raced);
  const split = splitLargest(
    free.map(({ s }) => s),
    options.minBytes === undefined ? {} : { minBytes: options.minBytes },
  );
  if (split !== undefined) {
    return { kind: 'steal', index: (free[split.index] as { i: number }).i, at: split.at };
  }
  const minRaceMs = options.minRaceMs ?? 500;
  let best: { i: number; ms: number; left: number } | undefined;
  for (const { s, i } of free) {
    const left = s.end - s.cursor;
    if (left <= 0) continue;
    const speed = s.bytesPerSecond;
    if (speed === undefined) continue;
    const ms = speed <= 0 ? Number.POSITIVE_INFINITY : (left * 1000) / speed;
    if (ms <= minRaceMs) continue;
    if (best === undefined || ms > best.ms || (ms === best.ms && left > best.left)) {
      best = { i, ms, left };
    }
  }
  return best === undefined ? { kind: 'none' } : { kind: 'race', index: best.i };
}

/** One connection's speed record for `slowSegments()`. */
export interface SpeedRecord {
  /** Bytes per second over the last few seconds; undefined until measured. */
  bytesPerSecond: number | undefined;
  /** Bytes this connection still has to fetch. */
  left: number;
  /** When (ms, the caller's clock) it was first seen slow; undefined when it is not slow. */
  slowSince: number | undefined;
}

export interface SlowOptions {
  /** Current time in ms (same clock as `slowSince`). */
  now: number;
  /** Slow means below this fraction of the median speed of the others. @default 0.3 */
  ratio?: number;
  /** Restart only after being slow this long, in ms. @default 3_000 */
  graceMs?: number;
  /** Never restart for fewer bytes left than this. @default 256 KiB */
  minBytes?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Finds connections to restart (Surge's rule, ARCHITECTURE.md field gap 4): a connection whose speed stays
 * below `ratio` times the median of the others for `graceMs` is likely on a bad path, and a fresh
 * request for its remainder usually gets a better one. Returns the new `slowSince` of every record
 * and the indices to restart. Needs at least two other measured connections to compare with.
 */
export function slowSegments(
  records: readonly SpeedRecord[],
  options: SlowOptions,
): { slowSince: (number | undefined)[]; restart: number[] } {
  const ratio = options.ratio ?? 0.3;
  const graceMs = options.graceMs ?? 3_000;
  const minBytes = options.minBytes ?? 256 * 1024;
  const slowSince: (number | undefined)[] = [];
  const restart: number[] = [];
  records.forEach((r, i) => {
    const others = records
      .filter((o, j) => j !== i && o.bytesPerSecond !== undefined && o.left > 0)
      .map((o) => o.bytesPerSecond as number);
    const slow =
      others.length >= 2 &&
      r.bytesPerSecond !== undefined &&
      r.left >= minBytes &&
      r.bytesPerSecond < ratio * median(others);
    const since = slow ? (r.slowSince ?? options.now) : undefined;
    slowSince.push(since);
    if (since !== undefined && options.now - since >= graceMs) restart.push(i);
  });
  return { slowSince, restart };
}

/**
 * Connections for a file of `size` bytes: the number asked for, else 4 for files of 4 MiB or
 * more and 1 below (a small file gains nothing from more round trips).
 */
export function connectionsFor(size: number, requested: number | undefined): number {
  return requested ?? (size >= 4 * 1024 * 1024 ? 4 : 1);
}
