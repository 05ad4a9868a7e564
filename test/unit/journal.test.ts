import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeJournal,
  encodeJournal,
  heldSpans,
  type Journal,
  newJournal,
  recordProgress,
} from '../../src/core/journal.js';

const base: Journal = {
  url: 'http://example.com/big.iso',
  size: 1000,
  etag: '"abc"',
  lastModified: 'Sun, 06 Nov 1994 08:49:37 GMT',
  acceptRanges: true,
  done: [
    { start: 0, end: 100 },
    { start: 500, end: 600 },
  ],
};

test('encodeJournal() writes one versioned JSON line', () => {
  const text = encodeJournal(base);
  assert.equal(
    text,
    '{"format":"ranged-journal","version":1,"url":"http://example.com/big.iso","size":1000,' +
      '"etag":"\\"abc\\"","lastModified":"Sun, 06 Nov 1994 08:49:37 GMT","acceptRanges":true,' +
      '"done":[[0,100],[500,600]]}\n',
  );
});

const roundTrips: [string, Journal][] = [
  ['a full journal', base],
  ['no validators', { ...base, etag: undefined, lastModified: undefined }],
  ['an unknown size', { ...base, size: undefined, done: [{ start: 0, end: 50 }] }],
  ['nothing done', { ...base, done: [] }],
  ['a plain-stream download', { ...base, acceptRanges: false }],
  [
    'live spans of a boot',
    {
      ...base,
      live: {
        boot: 'b1',
        done: [
          { start: 0, end: 300 },
          { start: 500, end: 700 },
        ],
      },
    },
  ],
];
for (const [name, journal] of roundTrips) {
  test(`decodeJournal() reads back ${name}`, () => {
    assert.deepEqual(decodeJournal(encodeJournal(journal)), { kind: 'ok', journal });
  });
}

test('encodeJournal() merges adjacent spans', () => {
  const j = {
    ...base,
    done: [
      { start: 0, end: 10 },
      { start: 10, end: 20 },
    ],
  };
  const decoded = decodeJournal(encodeJournal(j));
  assert.deepEqual(decoded.kind === 'ok' && decoded.journal.done, [{ start: 0, end: 20 }]);
});

const good = JSON.parse(encodeJournal(base)) as Record<string, unknown>;
const badCases: [string, string, ReturnType<typeof decodeJournal>][] = [
  ['garbage', 'not json {', { kind: 'invalid', reason: 'not JSON' }],
  ['an empty file', '', { kind: 'invalid', reason: 'not JSON' }],
  ['a JSON array', '[]', { kind: 'invalid', reason: 'not a JSON object' }],
  [
    'another format',
    JSON.stringify({ ...good, format: 'aria2' }),
    { kind: 'invalid', reason: 'not a ranged journal' },
  ],
  ['a newer version', JSON.stringify({ ...good, version: 2 }), { kind: 'unsupported', version: 2 }],
  [
    'no version',
    JSON.stringify({ ...good, version: undefined }),
    { kind: 'invalid', reason: 'no format version' },
  ],
  ['no URL', JSON.stringify({ ...good, url: '' }), { kind: 'invalid', reason: 'no URL' }],
  [
    'a negative size',
    JSON.stringify({ ...good, size: -1 }),
    { kind: 'invalid', reason: 'bad size' },
  ],
  [
    'a fractional size',
    JSON.stringify({ ...good, size: 1.5 }),
    { kind: 'invalid', reason: 'bad size' },
  ],
  ['a numeric ETag', JSON.stringify({ ...good, etag: 5 }), { kind: 'invalid', reason: 'bad ETag' }],
  [
    'no acceptRanges',
    JSON.stringify({ ...good, acceptRanges: 'yes' }),
    { kind: 'invalid', reason: 'bad acceptRanges' },
  ],
  [
    'an empty span',
    JSON.stringify({ ...good, done: [[5, 5]] }),
    { kind: 'invalid', reason: 'bad span' },
  ],
  [
    'a reversed span',
    JSON.stringify({ ...good, done: [[6, 5]] }),
    { kind: 'invalid', reason: 'bad span' },
  ],
  [
    'a span as an object',
    JSON.stringify({ ...good, done: [{ start: 0, end: 5 }] }),
    { kind: 'invalid', reason: 'bad span' },
  ],
  [
    'overlapping spans',
    JSON.stringify({
      ...good,
      done: [
        [0, 10],
        [5, 20],
      ],
    }),
    { kind: 'invalid', reason: 'spans out of order' },
  ],
  [
    'unsorted spans',
    JSON.stringify({
      ...good,
      done: [
        [50, 60],
        [0, 10],
      ],
    }),
    { kind: 'invalid', reason: 'spans out of order' },
  ],
  [
    'a span past the size',
    JSON.stringify({ ...good, done: [[0, 1001]] }),
    { kind: 'invalid', reason: 'span past the size' },
  ],
  [
    'a gap without a size',
    JSON.stringify({ ...good, size: null, done: [[10, 20]] }),
    { kind: 'invalid', reason: 'spans without a size' },
  ],
];
for (const [name, text, expected] of badCases) {
  test(`decodeJournal() rejects ${name}`, () => {
    assert.deepEqual(decodeJournal(text), expected);
  });
}

test('newJournal() holds nothing', () => {
  const j = newJournal('http://x/a', {
    size: 10,
    etag: undefined,
    lastModified: undefined,
    acceptRanges: true,
  });
  assert.deepEqual(j.done, []);
  assert.equal(j.url, 'http://x/a');
});

test('recordProgress() merges a span and leaves the input alone', () => {
  const next = recordProgress(base, { start: 100, end: 500 });
  assert.deepEqual(next.done, [{ start: 0, end: 600 }]);
  assert.deepEqual(base.done, [
    { start: 0, end: 100 },
    { start: 500, end: 600 },
  ]);
});

test('recordProgress() refuses bytes past the size', () => {
  assert.throws(() => recordProgress(base, { start: 900, end: 1001 }), RangeError);
});

test('encodeJournal() writes live spans after the synced ones', () => {
  const text = encodeJournal({
    ...base,
    done: [],
    live: { boot: 'b1', done: [{ start: 0, end: 9 }] },
  });
  assert.match(text, /"done":\[\],"live":\{"boot":"b1","done":\[\[0,9\]\]\}\}\n$/);
});

const liveGood = JSON.parse(encodeJournal(base)) as Record<string, unknown>;
const badLive: [string, unknown, string][] = [
  ['not an object', 'b1', 'bad live spans'],
  ['no boot', { done: [] }, 'bad live spans'],
  ['an empty boot', { boot: '', done: [] }, 'bad live spans'],
  ['no spans', { boot: 'b1' }, 'bad live spans'],
  ['a span past the size', { boot: 'b1', done: [[0, 1001]] }, 'live: span past the size'],
  [
    'spans out of order',
    {
      boot: 'b1',
      done: [
        [5, 9],
        [0, 2],
      ],
    },
    'live: spans out of order',
  ],
];
for (const [name, live, reason] of badLive) {
  test(`decodeJournal() rejects live spans with ${name}`, () => {
    assert.deepEqual(decodeJournal(JSON.stringify({ ...liveGood, live })), {
      kind: 'invalid',
      reason,
    });
  });
}

test('decodeJournal() rejects live spans that are not a prefix when the size is unknown', () => {
  const text = JSON.stringify({
    ...liveGood,
    size: null,
    done: [],
    live: { boot: 'b', done: [[5, 9]] },
  });
  assert.deepEqual(decodeJournal(text), { kind: 'invalid', reason: 'spans without a size' });
});

test('heldSpans() trusts live spans only in the boot that wrote them', () => {
  const j: Journal = {
    ...base,
    done: [{ start: 0, end: 100 }],
    live: {
      boot: 'b1',
      done: [
        { start: 0, end: 250 },
        { start: 400, end: 450 },
      ],
    },
  };
  assert.deepEqual(heldSpans(j, 'b1'), [
    { start: 0, end: 250 },
    { start: 400, end: 450 },
  ]);
  assert.deepEqual(heldSpans(j, 'b2'), [{ start: 0, end: 100 }], 'another boot: synced only');
  assert.deepEqual(heldSpans(j, undefined), [{ start: 0, end: 100 }], 'unknown boot: synced only');
  assert.deepEqual(heldSpans({ ...j, live: undefined }, 'b1'), [{ start: 0, end: 100 }]);
  // Synced spans count even if the live list were to miss them.
  const odd: Journal = { ...j, done: [{ start: 900, end: 1000 }] };
  assert.deepEqual(heldSpans(odd, 'b1'), [
    { start: 0, end: 250 },
    { start: 400, end: 450 },
    { start: 900, end: 1000 },
  ]);
});
