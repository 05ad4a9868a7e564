import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCount, parseJsonObject } from '../../src/core/upload/json-object.js';

const objectRows: [text: string, value: Record<string, unknown> | unknown[] | undefined][] = [
  ['{"a":1}', { a: 1 }],
  ['{}', {}],
  // A list is an object too: the codecs then find none of their fields.
  ['[1]', [1]],
  ['null', undefined],
  ['7', undefined],
  ['"text"', undefined],
  ['{"a":', undefined],
  ['', undefined],
];

for (const [text, value] of objectRows) {
  test(`parseJsonObject() reads ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseJsonObject(text), value);
  });
}

const countRows: [n: unknown, count: boolean][] = [
  [0, true],
  [8_388_608, true],
  [Number.MAX_SAFE_INTEGER, true],
  [Number.MAX_SAFE_INTEGER + 1, false],
  [-1, false],
  [1.5, false],
  [Number.NaN, false],
  ['5', false],
  [null, false],
  [undefined, false],
];

for (const [n, count] of countRows) {
  test(`isCount() is ${count} for ${String(n)}`, () => {
    assert.equal(isCount(n), count);
  });
}
