import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isExpiredTarget,
  isRefusal,
  isRetryableStatus,
  nextDelay,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
} from '../../src/core/backoff.js';

const policy = (r: number): RetryPolicy => ({ baseDelay: 500, maxDelay: 30_000, random: () => r });

const delayCases: [number, number, number][] = [
  // attempt, random, expected: ceiling/2 + random*ceiling/2, ceiling = min(30000, 500·2^(n-1))
  [1, 0, 250],
  [1, 0.999_999, 500],
  [2, 0, 500],
  [3, 0.5, 1500],
  [6, 0, 8000],
  [7, 0, 15_000],
  [8, 0, 15_000],
  [8, 0.999_999, 30_000],
  [100, 0, 15_000],
];
for (const [attempt, random, expected] of delayCases) {
  test(`retryDelay() waits ${expected} ms before retry ${attempt} with jitter ${random}`, () => {
    assert.equal(retryDelay(attempt, policy(random)), expected);
  });
}

test('retryDelay() rejects attempt 0', () => {
  assert.throws(() => retryDelay(0, policy(0)), RangeError);
});

const NOW = Date.UTC(2024, 0, 1, 0, 0, 0);
const afterCases: [string | undefined, number | undefined][] = [
  [undefined, undefined],
  ['0', 0],
  ['5', 5000],
  [' 120 ', 120_000],
  ['-1', undefined],
  ['1.5', undefined],
  ['soon', undefined],
  ['Mon, 01 Jan 2024 00:00:10 GMT', 10_000],
  ['Sun, 31 Dec 2023 23:59:00 GMT', 0],
];
for (const [value, expected] of afterCases) {
  test(`parseRetryAfter() reads ${JSON.stringify(value)}`, () => {
    assert.equal(parseRetryAfter(value, NOW), expected);
  });
}

test('nextDelay() honours Retry-After up to maxDelay', () => {
  assert.equal(nextDelay(1, policy(0), 2000), 2000);
  assert.equal(nextDelay(1, policy(0), 3_600_000), 30_000);
  assert.equal(nextDelay(1, policy(0), undefined), 250);
});

const statusCases: [number, boolean][] = [
  [408, true],
  [429, true],
  [500, true],
  [502, true],
  [503, true],
  [504, true],
  [501, false],
  [505, false],
  [400, false],
  [403, false],
  [404, false],
  [416, false],
];
for (const [status, expected] of statusCases) {
  test(`isRetryableStatus() says ${expected} for ${status}`, () => {
    assert.equal(isRetryableStatus(status), expected);
  });
}

const refusalCases: [number, boolean, number, boolean][] = [
  [403, true, 2, true],
  [429, true, 3, true],
  [503, true, 2, true],
  [403, true, 1, false],
  [403, false, 2, false],
  [404, true, 2, false],
  [500, true, 4, false],
];
for (const [status, ranged, active, expected] of refusalCases) {
  test(`isRefusal() is ${expected} for ${status} with ${active} connection(s)${ranged ? '' : ' without ranges'}`, () => {
    assert.equal(isRefusal(status, { ranged, active }), expected);
  });
}

const expiredCases: [number, boolean, boolean][] = [
  [403, true, true],
  [410, true, true],
  [403, false, false],
  [410, false, false],
  [404, true, false],
  [503, true, false],
];
for (const [status, redirected, expected] of expiredCases) {
  test(`isExpiredTarget() is ${expected} for ${status}${redirected ? ' from a redirect target' : ''}`, () => {
    assert.equal(isExpiredTarget(status, { redirected }), expected);
  });
}
