import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortInSteps, sortNow } from '../../src/core/sort-steps.js';

const byNumber = (a: number, b: number) => a - b;

const cases: [string, number[]][] = [
  ['nothing', []],
  ['one item', [1]],
  ['a run shorter than 32', [5, 3, 9, 1, 1, 0]],
  ['exactly 32', Array.from({ length: 32 }, (_, i) => (i * 7919) % 32)],
  ['33 (one run and one item)', Array.from({ length: 33 }, (_, i) => (i * 37) % 33)],
  ['1,000 in reverse', Array.from({ length: 1000 }, (_, i) => 1000 - i)],
  ['1,000 already sorted', Array.from({ length: 1000 }, (_, i) => i)],
  ['many ties', Array.from({ length: 500 }, (_, i) => i % 3)],
];
for (const [name, items] of cases) {
  test(`sortInSteps() sorts ${name} as Array.prototype.sort does`, () => {
    assert.deepEqual(sortNow(items, byNumber), [...items].sort(byNumber));
  });
}

test('sortInSteps() is stable', () => {
  const items = Array.from({ length: 300 }, (_, i) => ({ key: i % 4, at: i }));
  const sorted = sortNow(items, (a, b) => a.key - b.key);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (a?.key === b?.key) assert.ok((a?.at ?? 0) < (b?.at ?? 0));
  }
});

test('sortInSteps() yields about every budget comparisons and leaves the input alone', () => {
  const items = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_007);
  const copy = [...items];
  let compares = 0;
  const steps = sortInSteps(
    items,
    (a, b) => {
      compares++;
      return a - b;
    },
    1_000,
  );
  let yields = 0;
  let result: number[] | undefined;
  for (;;) {
    const step = steps.next();
    if (step.done) {
      result = step.value;
      break;
    }
    yields++;
  }
  assert.deepEqual(items, copy);
  assert.deepEqual(result, [...copy].sort(byNumber));
  // Every yield stands for at least ~budget comparisons (runs may add up to a run's worth).
  assert.ok(yields >= Math.floor(compares / 2_000), `${yields} yields for ${compares} compares`);
  assert.ok(yields <= compares / 1_000 + 1, `${yields} yields for ${compares} compares`);
});

test('sortInSteps() refuses a budget of 0', () => {
  assert.throws(() => sortInSteps([1], byNumber, 0).next(), RangeError);
});
