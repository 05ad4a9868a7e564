import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatContentRange, parseContentRange } from '../../src/core/content-range.js';

test('formatContentRange() writes a range and the unsatisfied form', () => {
  assert.equal(formatContentRange({ start: 0, end: 499 }, 1234), 'bytes 0-499/1234');
  assert.equal(formatContentRange(undefined, 1234), 'bytes */1234');
});

const cases: [string | undefined, ReturnType<typeof parseContentRange>][] = [
  ['bytes 0-499/1234', { kind: 'range', start: 0, end: 499, size: 1234 }],
  ['bytes 0-499/*', { kind: 'range', start: 0, end: 499, size: undefined }],
  ['BYTES 5-5/6', { kind: 'range', start: 5, end: 5, size: 6 }],
  ['bytes */1234', { kind: 'unsatisfied', size: 1234 }],
  ['bytes */*', undefined],
  ['bytes 5-4/10', undefined],
  ['bytes 0-10/10', undefined],
  ['bytes 0-4', undefined],
  ['bytes -1-4/10', undefined],
  ['items 0-4/10', undefined],
  [undefined, undefined],
];
for (const [value, expected] of cases) {
  test(`parseContentRange() reads ${JSON.stringify(value)}`, () => {
    assert.deepEqual(parseContentRange(value), expected);
  });
}
