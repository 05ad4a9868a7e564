import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../src/core/format-bytes.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const cases: [number, string][] = [
  [0, '0 B'],
  [1, '1 B'],
  [999, '999 B'],
  [1023, '1023 B'],
  [1024, '1.0 KiB'],
  [1536, '1.5 KiB'],
  [99.9 * KiB, '99.9 KiB'],
  // 99.96 KiB would round to "100.0": from 100 of a unit on, no decimal.
  [Math.round(99.96 * KiB), '100 KiB'],
  [512 * KiB, '512 KiB'],
  [1023 * KiB, '1023 KiB'],
  // 1023.96 KiB rounds to 1024 KiB: that is 1.0 MiB.
  [Math.round(1023.96 * KiB), '1.0 MiB'],
  [3_500_000, '3.3 MiB'],
  [5 * MiB + 1, '5.0 MiB'],
  [10 * MiB, '10.0 MiB'],
  [11_520_044, '11.0 MiB'],
  [3 * GiB, '3.0 GiB'],
  [4_700_000_000, '4.4 GiB'],
  [64 * GiB, '64.0 GiB'],
  [2 ** 53, '8.0 PiB'],
  [2 ** 70, '1024 EiB'],
];
for (const [bytes, text] of cases) {
  test(`formatBytes() writes ${bytes} as ${text}`, () => {
    assert.equal(formatBytes(bytes), text);
  });
}
