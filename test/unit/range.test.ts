import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ByteRange,
  coalesceRanges,
  parsePosition,
  parseRange,
  type RangeRequest,
} from '../../src/core/range.js';

const ranges = (...list: [number, number][]): RangeRequest => ({
  kind: 'ranges',
  ranges: list.map(([start, end]) => ({ start, end })),
});
const U: RangeRequest = { kind: 'unsatisfiable' };

const cases: [string | undefined, number, RangeRequest | 'ignored'][] = [
  [undefined, 100, { kind: 'absent' }],
  ['bytes=0-0', 100, ranges([0, 0])],
  ['bytes=0-499', 1000, ranges([0, 499])],
  ['bytes=500-', 1000, ranges([500, 999])],
  ['bytes=-200', 1000, ranges([800, 999])],
  ['bytes=-5000', 1000, ranges([0, 999])], // suffix longer than the file: whole file
  ['bytes=900-5000', 1000, ranges([900, 999])], // last-pos past the end is clamped
  ['bytes=999-999', 1000, ranges([999, 999])],
  ['bytes=1000-', 1000, U],
  ['bytes=1000-2000', 1000, U],
  ['bytes=-0', 1000, U],
  ['bytes=-0', 26, U],
  ['BYTES=0-4', 26, ranges([0, 4])], // the unit is case-insensitive
  ['Bytes=0-4', 26, ranges([0, 4])],
  ['bytes=0-4, 10-14', 26, ranges([0, 4], [10, 14])],
  ['bytes=0-4 ,\t10-14', 26, ranges([0, 4], [10, 14])],
  ['bytes=0-4,,10-14', 26, ranges([0, 4], [10, 14])], // empty list elements are skipped
  ['bytes=10-14,0-4', 26, ranges([10, 14], [0, 4])], // request order kept
  ['bytes=0-4,3-8', 26, ranges([0, 8])], // overlapping: coalesced
  ['bytes=0-4,5-8', 26, ranges([0, 8])], // adjacent: coalesced
  ['bytes=10-12,0-4,5-6', 26, ranges([10, 12], [0, 6])],
  ['bytes=0-4,30-40', 26, ranges([0, 4])], // the unsatisfiable one is dropped
  ['bytes=30-40,50-60', 26, U],
  ['bytes=0-99999999999999999999999', 26, ranges([0, 25])], // overflow clamps
  ['bytes=99999999999999999999999-', 26, U],
  ['bytes=5-2', 26, 'ignored'], // last < first: invalid, so the header is ignored
  ['bytes=0-4,abc', 26, 'ignored'],
  ['bytes=abc', 26, 'ignored'],
  ['bytes=', 26, 'ignored'],
  ['bytes=1x-5', 26, 'ignored'],
  ['bytes=+1-5', 26, 'ignored'],
  ['bytes=0x1-5', 26, 'ignored'],
  ['bytes=1e3-', 26, 'ignored'],
  ['bytes= 0-4', 26, ranges([0, 4])],
  ['bytes=0 -4', 26, 'ignored'], // no whitespace inside a range-spec
  ['bytes=--5', 26, 'ignored'],
  ['bytes=-', 26, 'ignored'],
  ['bytes 0-4', 26, 'ignored'],
  ['items=0-5', 26, 'ignored'],
  ['', 26, 'ignored'],
  ['bytes=0-0', 0, 'ignored'], // empty representation: ignore Range, 200
  ['bytes=-5', 0, 'ignored'],
];

for (const [header, size, expected] of cases) {
  test(`parseRange() reads ${JSON.stringify(header)} against ${size} bytes`, () => {
    const result = parseRange(header, size);
    if (expected === 'ignored') assert.equal(result.kind, 'ignored');
    else assert.deepEqual(result, expected);
  });
}

test('parseRange() ignores more ranges than maxRanges', () => {
  const header = `bytes=${Array.from({ length: 11 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
  assert.equal(parseRange(header, 100, { maxRanges: 10 }).kind, 'ignored');
  assert.equal(parseRange(header, 100, { maxRanges: 11 }).kind, 'ranges');
});

test('parseRange() coalesces 1,000 copies of 0-0 into one range', () => {
  const header = `bytes=${Array(1000).fill('0-0').join(',')}`;
  assert.deepEqual(parseRange(header, 100, { maxRanges: 1000 }), ranges([0, 0]));
});

test('parsePosition() accepts digits only and clamps huge values', () => {
  assert.equal(parsePosition('0'), 0);
  assert.equal(parsePosition('007'), 7);
  assert.equal(parsePosition('9007199254740993'), Number.MAX_SAFE_INTEGER);
  for (const bad of ['', ' 1', '1 ', '-1', '+1', '1.0', '0x10', '1e3', 'Infinity']) {
    assert.equal(parsePosition(bad), undefined, bad);
  }
});

test('coalesceRanges() merges overlaps and keeps first-asked order', () => {
  const input: ByteRange[] = [
    { start: 50, end: 60 },
    { start: 0, end: 10 },
    { start: 55, end: 70 },
    { start: 11, end: 12 },
  ];
  assert.deepEqual(coalesceRanges(input), [
    { start: 50, end: 70 },
    { start: 0, end: 12 },
  ]);
});
