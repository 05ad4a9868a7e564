/**
 * Results as data: each measurement keeps its raw samples (one per round) and its median; ratios
 * compare medians of peers measured in the same run; floors turn ratios into PASS/FAIL lines.
 */

export interface Measurement {
  /** Stable key, e.g. `small.ranged`. */
  id: string;
  section: string;
  /** Row label, e.g. `ranged`. */
  label: string;
  unit: string;
  samples: number[];
  median: number;
  /** Extra facts worth keeping (bytes per request, status, errors). */
  notes?: Record<string, number | string>;
}

export interface Ratio {
  id: string;
  label: string;
  value: number;
  /** The issue's floor, if this ratio has one. */
  floor?: { issue: number; op: '>=' | '<=' | '<'; limit: number };
  /** How `value` reads: `x` for a ratio (the default), or a unit such as `MiB`. */
  unit?: string;
  pass?: boolean;
}

export interface Section {
  id: string;
  title: string;
  measurements: Measurement[];
  ratios: Ratio[];
  /** Why a section, or part of it, was not measured. */
  skipped?: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

export function measurement(
  section: string,
  label: string,
  unit: string,
  samples: number[],
  notes?: Record<string, number | string>,
): Measurement {
  return {
    id: `${section}.${label}`,
    section,
    label,
    unit,
    samples,
    median: median(samples),
    ...(notes === undefined ? {} : { notes }),
  };
}

/** A ratio a/b of two medians, checked against a floor when one is given. */
export function ratio(
  id: string,
  label: string,
  a: number,
  b: number,
  floor?: Ratio['floor'],
): Ratio {
  return check(id, label, a / b, floor);
}

/** A value checked against a floor (or a ceiling, with `<`). */
export function check(
  id: string,
  label: string,
  value: number,
  floor?: Ratio['floor'],
  unit?: string,
): Ratio {
  const base: Ratio = { id, label, value, ...(unit === undefined ? {} : { unit }) };
  if (floor === undefined) return base;
  const pass =
    floor.op === '>='
      ? value >= floor.limit
      : floor.op === '<='
        ? value <= floor.limit
        : value < floor.limit;
  return { ...base, floor, pass: Number.isFinite(value) && pass };
}

/**
 * Runs `body(item, round)` for every item, round after round (A B C, A B C, …), so that drift on a
 * noisy machine hits every peer alike. With `rotate`, each round starts one item later (A B C,
 * B C A, C A B, …), so that each item runs first, second, … alike (the first run of a round,
 * and the last, are not always the same item's; within a round the cyclic order stays, so an
 * item still follows the same other one, except across rounds). Returns the samples per item.
 */
export async function interleave<T extends string>(
  items: readonly T[],
  rounds: number,
  body: (item: T, round: number) => Promise<number>,
  options: { rotate?: boolean } = {},
): Promise<Map<T, number[]>> {
  const samples = new Map<T, number[]>(items.map((item) => [item, []]));
  for (let round = 0; round < rounds; round++) {
    const shift = options.rotate === true ? round % items.length : 0;
    const order = [...items.slice(shift), ...items.slice(0, shift)];
    for (const item of order) samples.get(item)?.push(await body(item, round));
  }
  return samples;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A ratio for people: 2 decimals, 4 below 0.1, 3 when 2 would round onto the limit (0.9986x). */
export function formatRatio(value: number, limit?: number): string {
  if (!Number.isFinite(value)) return `${value}x`;
  let digits = value < 0.1 ? 4 : 2;
  if (limit !== undefined && value !== limit && Number(value.toFixed(digits)) === limit) digits = 3;
  return `${value.toFixed(digits)}x`;
}
