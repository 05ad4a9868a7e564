import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendLimits } from '../../src/client/engine/upload-part.js';

// draft-12 §Limits: `Upload-Limit` is a Dictionary; `min-append-size` and `max-append-size` are
// Integers of bytes. Anything else (absent, not a Dictionary, a String member) limits nothing.
const cases: [string | undefined, Awaited<ReturnType<typeof appendLimits>>][] = [
  [undefined, {}],
  ['max-size=1000, max-append-size=4194304', { minAppend: undefined, maxAppend: 4194304 }],
  ['min-append-size=1024, max-append-size=2048', { minAppend: 1024, maxAppend: 2048 }],
  ['max-age=3600', { minAppend: undefined, maxAppend: undefined }],
  ['max-append-size="4096"', { minAppend: undefined, maxAppend: undefined }],
  ['max-append-size=1.5', { minAppend: undefined, maxAppend: undefined }],
  ['this is not, a dictionary (', {}],
];
for (const [value, expected] of cases) {
  test(`appendLimits(${JSON.stringify(value)})`, async () => {
    assert.deepEqual(await appendLimits(value), expected);
  });
}
