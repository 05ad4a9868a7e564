/**
 * Transfer rate and ETA from timed samples. Pure: the caller supplies the clock readings.
 */

/** The cumulative byte count at one moment (`time` in ms, from any monotonic clock). */
export interface Sample {
  time: number;
  bytes: number;
}

export interface RateOptions {
  /** How far back samples count, in ms. @default 5_000 */
  window?: number;
}

/**
 * Appends a sample and drops those older than the window (keeping one just outside it, so a rate
 * can still be computed after a quiet spell). Returns a new array.
 */
export function addSample(
  samples: readonly Sample[],
  sample: Sample,
  options: RateOptions = {},
): Sample[] {
  const window = options.window ?? 5_000;
  const out = [...samples, sample];
  while (out.length > 2 && (out[1] as Sample).time <= sample.time - window) out.shift();
  return out;
}

/**
 * Bytes per second over the window: the bytes between the oldest and newest sample divided by the
 * time between them. 0 with fewer than two samples or no elapsed time.
 */
export function rate(samples: readonly Sample[]): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last.time <= first.time) return 0;
  return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.time - first.time));
}

/** Seconds left at `bytesPerSecond`; undefined when the size is unknown or nothing is moving. */
export function eta(remaining: number | undefined, bytesPerSecond: number): number | undefined {
  if (remaining === undefined) return undefined;
  if (remaining <= 0) return 0;
  if (!(bytesPerSecond > 0)) return undefined;
  return Math.ceil(remaining / bytesPerSecond);
}
