import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fileETag,
  formatHttpDate,
  isETag,
  parseETagList,
  parseHttpDate,
  strongMatch,
  weakMatch,
} from '../../src/core/validators.js';

test('fileETag() is strong and changes with size, time and inode', () => {
  const base = { size: 10, mtimeMs: 1_700_000_000_123.456, ino: 42 };
  const tag = fileETag(base);
  assert.ok(isETag(tag) && !tag.startsWith('W/'));
  assert.notEqual(fileETag({ ...base, size: 11 }), tag);
  assert.notEqual(fileETag({ ...base, mtimeMs: base.mtimeMs + 0.001 }), tag);
  assert.notEqual(fileETag({ ...base, ino: 43 }), tag);
  assert.equal(fileETag({ ...base }), tag);
});

// RFC 9110 §8.8.3.2, the comparison table.
const comparisons: [string, string, boolean, boolean][] = [
  ['W/"1"', 'W/"1"', false, true],
  ['W/"1"', 'W/"2"', false, false],
  ['W/"1"', '"1"', false, true],
  ['"1"', '"1"', true, true],
];
for (const [a, b, strong, weak] of comparisons) {
  test(`strongMatch() and weakMatch() compare ${a} with ${b} as RFC 9110 §8.8.3.2 says`, () => {
    assert.equal(strongMatch(a, b), strong);
    assert.equal(weakMatch(a, b), weak);
  });
}

test('parseETagList() reads *, lists, commas inside tags, and skips junk', () => {
  assert.deepEqual(parseETagList('*'), { kind: 'any' });
  assert.deepEqual(parseETagList('"a", W/"b",  "c,d"'), {
    kind: 'tags',
    tags: ['"a"', 'W/"b"', '"c,d"'],
  });
  assert.deepEqual(parseETagList('abc'), { kind: 'tags', tags: [] });
  assert.deepEqual(parseETagList('"a" junk'), { kind: 'tags', tags: ['"a"'] });
});

test('formatHttpDate() writes IMF-fixdate truncated to the second', () => {
  assert.equal(
    formatHttpDate(Date.UTC(1994, 10, 6, 8, 49, 37, 999)),
    'Sun, 06 Nov 1994 08:49:37 GMT',
  );
});

const dates: [string, number | undefined][] = [
  ['Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
  ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
  ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
  ['  Sun, 06 Nov 1994 08:49:37 GMT ', Date.UTC(1994, 10, 6, 8, 49, 37)],
  ['Sun, 31 Feb 1994 08:49:37 GMT', undefined],
  ['Sun, 06 Nov 1994 25:49:37 GMT', undefined],
  ['Sun, 06 Nov 1994 08:49:37 UTC', undefined],
  ['06 Nov 1994', undefined],
  ['"abc"', undefined],
  ['1700000000', undefined],
];
for (const [text, expected] of dates) {
  test(`parseHttpDate() reads ${JSON.stringify(text)}`, () => {
    assert.equal(parseHttpDate(text), expected);
  });
}
