/**
 * A stable merge sort that stops every `budget` comparisons, so a shell can sort 100,000 names
 * with a slow comparator (Intl.Collator) without holding its event loop for half a second: it
 * runs the generator and yields to other work between steps.
 */

/**
 * Sorts a copy of `items` with `compare` (stable, like Array.prototype.sort). The generator
 * yields (undefined) after about every `budget` comparisons and returns the sorted array.
 */
export function* sortInSteps<T>(
  items: readonly T[],
  compare: (a: T, b: T) => number,
  budget = 20_000,
): Generator<void, T[], void> {
  if (!(budget > 0)) throw new RangeError(`sortInSteps() needs a budget above 0, got ${budget}`);
  let from = [...items];
  const n = from.length;
  let to: T[] = new Array<T>(n);
  let spent = 0;
  // Runs of 32 are sorted by insertion first (few comparisons, no allocation), then merged.
  const RUN = 32;
  for (let start = 0; start < n; start += RUN) {
    const end = Math.min(start + RUN, n);
    for (let i = start + 1; i < end; i++) {
      const item = from[i] as T;
      let j = i - 1;
      while (j >= start && compare(from[j] as T, item) > 0) {
        from[j + 1] = from[j] as T;
        j--;
        spent++;
      }
      spent++;
      from[j + 1] = item;
    }
    if (spent >= budget) {
      spent = 0;
      yield;
    }
  }
  for (let width = RUN; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const mid = Math.min(left + width, n);
      const right = Math.min(left + 2 * width, n);
      let i = left;
      let j = mid;
      let k = left;
      while (i < mid && j < right) {
        // `<= 0` keeps equal items in their order: stable.
        if (compare(from[i] as T, from[j] as T) <= 0) to[k++] = from[i++] as T;
        else to[k++] = from[j++] as T;
        if (++spent >= budget) {
          spent = 0;
          yield;
        }
      }
      while (i < mid) to[k++] = from[i++] as T;
      while (j < right) to[k++] = from[j++] as T;
    }
    [from, to] = [to, from];
  }
  return from;
}

/** Runs `sortInSteps()` to the end at once (for callers that need no yielding, and for tests). */
export function sortNow<T>(items: readonly T[], compare: (a: T, b: T) => number): T[] {
  const steps = sortInSteps(items, compare);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
