import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Journal, newJournal } from '../../src/core/journal.js';
import { type ProbeOutcome, probeOutcome, probeRange } from '../../src/core/probe.js';
import type { Asked, Verdict } from '../../src/core/resume.js';

const URL = 'http://h/f';
const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';
const version = { size: 1000, etag: '"a"', lastModified: DATE };
const fresh = newJournal(URL, { ...version, acceptRanges: true });
const held: Journal = { ...fresh, done: [{ start: 0, end: 300 }] };
const plainHeld: Journal = { ...held, acceptRanges: false };

const rangeCases: [string, Journal | undefined, Asked][] = [
  ['asks a new download for bytes=0-', undefined, { start: 0, end: undefined, ranged: true }],
  [
    'asks a resume for exactly its first planned segment',
    held,
    { start: 300, end: 650, ranged: true },
  ],
  [
    'asks a journal without ranges for the whole file',
    plainHeld,
    { start: 0, end: undefined, ranged: false },
  ],
  [
    'asks a journal of unknown size for an open range',
    { ...held, size: undefined },
    { start: 0, end: undefined, ranged: true },
  ],
];
for (const [name, journal, expected] of rangeCases) {
  test(`probeRange() ${name}`, () => {
    assert.deepEqual(probeRange(journal, { connections: 2, minBytes: 100 }), expected);
  });
}

const partial: Verdict = {
  kind: 'partial',
  start: 300,
  end: 650,
  skip: 0,
  size: 1000,
  version,
};
const early: Verdict = { ...partial, start: 256, skip: 44 };
const full = (sameVersion: boolean, size = 1000): Verdict => ({
  kind: 'full',
  version: { ...version, size },
  sameVersion,
});

const outcomeCases: [string, Journal | undefined, Verdict, ProbeOutcome][] = [
  [
    'starts a ranged download on a 206',
    undefined,
    partial,
    { kind: 'ranged', journal: fresh, claimStart: 300, bodyStart: 300 },
  ],
  [
    'keeps the journal it resumes on a 206',
    held,
    partial,
    { kind: 'ranged', journal: held, claimStart: 300, bodyStart: 300 },
  ],
  [
    'claims the asked start of a 206 that starts earlier, reading its body from there',
    held,
    early,
    { kind: 'ranged', journal: held, claimStart: 300, bodyStart: 256 },
  ],
  [
    'restarts on a changed version',
    held,
    { kind: 'changed', reason: 'ETag is "b", expected "a"', version },
    { kind: 'restart', reason: 'ETag is "b", expected "a"' },
  ],
  [
    'finishes an empty file on a 416 */0',
    undefined,
    { kind: 'complete' },
    {
      kind: 'empty',
      journal: newJournal(URL, {
        size: 0,
        etag: undefined,
        lastModified: undefined,
        acceptRanges: true,
      }),
    },
  ],
  [
    'streams a new download without ranges on a 200',
    undefined,
    full(true),
    {
      kind: 'plain',
      journal: newJournal(URL, { ...version, acceptRanges: false }),
      notice:
        'The server does not support ranges: one connection; an interrupted download will fetch again from the start',
    },
  ],
  [
    'continues a held journal as one stream when the 200 is the same version',
    held,
    full(true),
    {
      kind: 'plain',
      journal: plainHeld,
      notice: 'The server ignored the Range request: continuing as one plain stream',
    },
  ],
  [
    'says nothing when the journal already knew the server ignores ranges',
    plainHeld,
    full(true),
    { kind: 'plain', journal: plainHeld, notice: undefined },
  ],
  [
    'restarts held bytes on a 200 to If-Range',
    held,
    full(false),
    { kind: 'restart', reason: 'the server answered 200 to If-Range' },
  ],
  [
    'restarts held bytes on a 200 of another size',
    held,
    full(true, 999),
    { kind: 'restart', reason: 'size is 999, expected 1000' },
  ],
  [
    'reports a status verdict as unexpected',
    held,
    { kind: 'status', status: 500 },
    { kind: 'unexpected' },
  ],
];
for (const [name, journal, verdict, expected] of outcomeCases) {
  test(`probeOutcome() ${name}`, () => {
    assert.deepEqual(probeOutcome(URL, journal, verdict), expected);
  });
}
