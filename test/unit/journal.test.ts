import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeJournal,
  encodeJournal,
  type Journal,
  liveVerdict,
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
  ['a live journal', { ...base, boot: 'b1' }],
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

test('encodeJournal() writes the boot id of a live journal last', () => {
  assert.match(
    encodeJournal({ ...base, boot: 'b1' }),
    /"done":\[\[0,100\],\[500,600\]\],"boot":"b1"\}\n$/,
  );
});

const plain = JSON.parse(encodeJournal(base)) as Record<string, unknown>;
for (const boot of ['', 5, null]) {
  test(`decodeJournal() rejects the boot id ${JSON.stringify(boot)}`, () => {
    assert.deepEqual(decodeJournal(JSON.stringify({ ...plain, boot })), {
      kind: 'invalid',
      reason: 'bad boot id',
    });
  });
}

test('liveVerdict() trusts a live journal only from this boot and for the same download', () => {
  const durable: Journal = { ...base, done: [{ start: 0, end: 100 }] };
  const live: Journal = {
    ...base,
    boot: 'b1',
    done: [
      { start: 0, end: 250 },
      { start: 400, end: 450 },
    ],
  };
  assert.deepEqual(liveVerdict(durable, live, 'b1'), {
    kind: 'trusted',
    done: [
      { start: 0, end: 250 },
      { start: 400, end: 450 },
    ],
  });
  assert.deepEqual(liveVerdict(durable, live, 'b2'), { kind: 'other-boot' });
  assert.deepEqual(liveVerdict(durable, live, undefined), { kind: 'other-boot' });
  assert.deepEqual(liveVerdict(durable, { ...live, boot: undefined }, 'b1'), { kind: 'foreign' });
  for (const other of [
    { url: 'http://example.com/other.iso' },
    { size: 999 },
    { etag: '"new"' },
    { lastModified: undefined },
    { acceptRanges: false },
  ]) {
    assert.deepEqual(
      liveVerdict(durable, { ...live, ...other }, 'b1'),
      { kind: 'foreign' },
      JSON.stringify(other),
    );
  }
  // The durable spans count even where the live journal does not list them.
  const odd: Journal = { ...durable, done: [{ start: 900, end: 1000 }] };
  assert.deepEqual(liveVerdict(odd, live, 'b1'), {
    kind: 'trusted',
    done: [
      { start: 0, end: 250 },
      { start: 400, end: 450 },
      { start: 900, end: 1000 },
    ],
  });
});
