/**
 * How many bytes `ranged put` sends in its next PATCH (tus) or upload append (the draft). Neither
 * protocol fixes a size: tus 1.0.0 §PATCH takes "the bytes of the upload" from the offset on, and
 * draft-12 §Upload Append lets a client split the representation into as many appends as it likes.
 *
 * - **Growth.** Each request costs a round trip in which no byte flows (the server writes the
 *   last bytes down and answers before the next request starts): 5-10 ms on loopback, 128 of
 *   them per GiB with 8 MiB PATCHes. So after each full request the next one carries what the
 *   measured rate carries in CHUNK_TARGET_MS (in multiples of `start`, which keeps an S3 store's
 *   8 MiB parts whole), never less than `start`, never more than `max`: on loopback a 1 GiB file
 *   goes in 3 PATCHes, on a slow link they stay at 8 MiB. A size the user chose, or chunks sent
 *   with a checksum (a 460 discards the whole chunk), do not change.
 * - **413.** draft-12 §Limits: "Clients could deal with such situations by retrying an upload
 *   append using a smaller size, as long as the new size resides between `min-append-size` and
 *   `max-append-size`." A 413 halves the size and the ceiling of every later request, down to
 *   `floor`; a 413 at `floor` is the server's final word.
 * - **The server's limits.** draft-12 §Limits: `max-append-size` and `min-append-size` bound each
 *   append; `withServerLimits()` folds them in whenever an answer carries `Upload-Limit`.
 */

export interface ChunkSizing {
  /** The first request's size, and the least the rate makes it. */
  start: number;
  /** The most it grows to (lowered by a 413 or the server's `max-append-size`). */
  max: number;
  /** The least a 413 halves it to (raised by the server's `min-append-size`). */
  floor: number;
  /** Whether the size follows the rate (false: the user's own size, or chunk checksums). */
  grows: boolean;
}

/** The time one request's bytes should take at the measured rate. @default 1_000 ms */
export const CHUNK_TARGET_MS = 1_000;

/** The default sizing: 8 MiB first, up to 512 MiB, a 413 halves down to 256 KiB. */
export const DEFAULT_CHUNK_SIZING: ChunkSizing = {
  start: 8 * 1024 * 1024,
  max: 512 * 1024 * 1024,
  floor: 256 * 1024,
  grows: true,
};

/** A fixed size (the user's `chunkSize`, or chunk checksums): only a 413 changes it. */
export function fixedChunkSizing(size: number, floor = DEFAULT_CHUNK_SIZING.floor): ChunkSizing {
  return { start: size, max: size, floor: Math.min(size, floor), grows: false };
}

/** `size` within `s`: at most `max`, at least `floor`. */
export function chunkWithin(size: number, s: ChunkSizing): number {
  return Math.max(Math.min(s.floor, s.max), Math.min(size, s.max));
}

/** The first request's size under `s`. */
export function firstChunkSize(s: ChunkSizing): number {
  return chunkWithin(s.start, s);
}

/**
 * The size after a request of `size` bytes was accepted: `sent.bytes` of them took `sent.ms`
 * (from its first byte to its answer). A request shorter than `size` (the file's end) says
 * nothing about the rate: the size stays.
 */
export function sizeAfterAppend(
  size: number,
  sent: { bytes: number; ms: number },
  s: ChunkSizing,
): number {
  if (!s.grows || sent.bytes < size) return chunkWithin(size, s);
  const reach = (sent.bytes * CHUNK_TARGET_MS) / Math.max(sent.ms, 1);
  const steps = Math.max(1, Math.floor(reach / s.start));
  return chunkWithin(steps * s.start, s);
}

/**
 * After a 413 to a request of `size` bytes: the sizing with its ceiling halved (and the start,
 * so that later parts do not try the refused size again), or undefined when `size` was already
 * the floor (the refusal stands).
 */
export function sizingAfterTooLarge(size: number, s: ChunkSizing): ChunkSizing | undefined {
  if (size <= s.floor) return undefined;
  const max = Math.max(s.floor, Math.floor(size / 2));
  return { ...s, max: Math.min(s.max, max), start: Math.min(s.start, max) };
}

/**
 * `s` within the server's draft-12 append limits (§Limits, `min-append-size` and
 * `max-append-size`, in bytes). A minimum above the maximum is ignored (the server contradicts
 * itself); so is any limit that is not a positive integer.
 */
export function withServerLimits(
  s: ChunkSizing,
  limits: { minAppend?: number | undefined; maxAppend?: number | undefined },
): ChunkSizing {
  const valid = (n: number | undefined): n is number =>
    n !== undefined && Number.isSafeInteger(n) && n > 0;
  const max = valid(limits.maxAppend) ? Math.min(s.max, limits.maxAppend) : s.max;
  const min = valid(limits.minAppend) && limits.minAppend <= max ? limits.minAppend : undefined;
  const floor = min === undefined ? Math.min(s.floor, max) : Math.max(min, Math.min(s.floor, max));
  return {
    ...s,
    max,
    floor,
    start: Math.max(floor, Math.min(s.start, max)),
  };
}
