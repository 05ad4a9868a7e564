/** core/resume.ts `confirmMove()`: a journal written for another URL is continued only for the same file. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  confirmMove,
  type MoveCheck,
  type RemoteVersion,
  type Verdict,
} from '../../src/core/resume.js';

const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';

const moved: RemoteVersion = { size: 1000, etag: '"a"', lastModified: DATE };
const partial = (version: RemoteVersion): Verdict => ({
  kind: 'partial',
  start: 999,
  end: 1000,
  skip: 0,
  size: version.size ?? 0,
  version,
});
const moveCases: [string, RemoteVersion, Verdict, MoveCheck['kind'], RegExp][] = [
  [
    'accepts the same size and strong ETag',
    moved,
    partial(moved),
    'same',
    /same size and ETag "a"/,
  ],
  [
    'accepts the same size and Last-Modified when the journal has no ETag',
    { ...moved, etag: undefined },
    partial({ ...moved, etag: undefined }),
    'same',
    /same size and Last-Modified "/,
  ],
  [
    'accepts a 200 (a server that ignores Range) with the same size and ETag',
    moved,
    { kind: 'full', version: moved, sameVersion: true },
    'same',
    /ETag/,
  ],
  [
    'refuses another size',
    moved,
    { kind: 'changed', reason: 'x', version: { ...moved, size: 999 } },
    'different',
    /size is 999/,
  ],
  [
    'refuses another ETag',
    moved,
    { kind: 'changed', reason: 'x', version: { ...moved, etag: '"b"' } },
    'different',
    /ETag is "b", the journal's "a"/,
  ],
  [
    'refuses an answer without the ETag (a missing validator proves nothing)',
    moved,
    partial({ ...moved, etag: undefined }),
    'different',
    /ETag is none/,
  ],
  [
    'refuses the same ETag with a weak journal ETag',
    { ...moved, etag: 'W/"a"' },
    partial({ ...moved, etag: 'W/"a"' }),
    'different',
    /no size and strong validator/,
  ],
  [
    'refuses another Last-Modified when the journal has no ETag',
    { ...moved, etag: undefined },
    partial({ ...moved, etag: undefined, lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' }),
    'different',
    /Last-Modified is/,
  ],
  ['refuses a 416', moved, { kind: 'complete' }, 'different', /does not identify/],
];
for (const [name, saved, verdict, kind, said] of moveCases) {
  test(`confirmMove() ${name}`, () => {
    const check = confirmMove(saved, verdict);
    assert.equal(check.kind, kind);
    assert.match(check.kind === 'same' ? check.notice : check.reason, said);
  });
}
