import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConditionalHeaders,
  evaluatePreconditions,
  ifRangeAllows,
  type PreconditionOutcome,
} from '../../src/core/preconditions.js';
import { formatHttpDate } from '../../src/core/validators.js';

const LM = Date.UTC(2024, 0, 2, 3, 4, 5);
const current = { etag: '"abc"', lastModified: LM };
const at = (ms: number) => formatHttpDate(ms);

const cases: [string, ConditionalHeaders, PreconditionOutcome][] = [
  ['no conditions', {}, 'proceed'],
  ['If-Match with the tag', { ifMatch: '"abc"' }, 'proceed'],
  ['If-Match *', { ifMatch: '*' }, 'proceed'],
  ['If-Match in a list', { ifMatch: '"x", "abc"' }, 'proceed'],
  ['If-Match with another tag', { ifMatch: '"x"' }, 'failed'],
  ['If-Match with the weak form (strong comparison)', { ifMatch: 'W/"abc"' }, 'failed'],
  ['If-Match garbage', { ifMatch: 'abc' }, 'failed'],
  ['If-Unmodified-Since equal', { ifUnmodifiedSince: at(LM) }, 'proceed'],
  ['If-Unmodified-Since later', { ifUnmodifiedSince: at(LM + 1000) }, 'proceed'],
  ['If-Unmodified-Since earlier', { ifUnmodifiedSince: at(LM - 1000) }, 'failed'],
  ['If-Unmodified-Since invalid is ignored', { ifUnmodifiedSince: 'yesterday' }, 'proceed'],
  [
    'If-Match wins over If-Unmodified-Since',
    { ifMatch: '"abc"', ifUnmodifiedSince: at(LM - 1000) },
    'proceed',
  ],
  ['If-None-Match with the tag', { ifNoneMatch: '"abc"' }, 'not-modified'],
  ['If-None-Match weak form (weak comparison)', { ifNoneMatch: 'W/"abc"' }, 'not-modified'],
  ['If-None-Match *', { ifNoneMatch: '*' }, 'not-modified'],
  ['If-None-Match other', { ifNoneMatch: '"x"' }, 'proceed'],
  ['If-Modified-Since equal', { ifModifiedSince: at(LM) }, 'not-modified'],
  ['If-Modified-Since later', { ifModifiedSince: at(LM + 5000) }, 'not-modified'],
  ['If-Modified-Since earlier', { ifModifiedSince: at(LM - 1000) }, 'proceed'],
  ['If-Modified-Since invalid is ignored', { ifModifiedSince: 'garbage' }, 'proceed'],
  [
    'If-None-Match other wins over a matching If-Modified-Since',
    { ifNoneMatch: '"x"', ifModifiedSince: at(LM) },
    'proceed',
  ],
  ['412 comes before 304', { ifMatch: '"x"', ifNoneMatch: '"abc"' }, 'failed'],
];
for (const [name, headers, expected] of cases) {
  test(`evaluatePreconditions() gives ${expected} for ${name}`, () => {
    assert.equal(evaluatePreconditions(headers, current), expected);
  });
}

const ifRange: [string | undefined, boolean][] = [
  [undefined, true],
  ['"abc"', true],
  [' "abc" ', true],
  ['W/"abc"', false],
  ['"abd"', false],
  [at(LM), true],
  [at(LM + 1000), false],
  [at(LM - 1000), false],
  ['not a date', false],
  ['', false],
];
for (const [value, expected] of ifRange) {
  test(`ifRangeAllows() gives ${expected} for ${JSON.stringify(value)}`, () => {
    assert.equal(ifRangeAllows(value, current), expected);
  });
}
