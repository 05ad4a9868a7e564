import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Journal } from '../../src/core/journal.js';
import {
  type Asked,
  canResume,
  checkResponse,
  declaredSize,
  ifRangeValue,
  type RemoteVersion,
  type ResponseFacts,
  type Trust,
  trustJournal,
  type Verdict,
} from '../../src/core/resume.js';

const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';
const DATE2 = 'Mon, 07 Nov 1994 08:49:37 GMT';

const ifRangeCases: [string, Pick<RemoteVersion, 'etag' | 'lastModified'>, string | undefined][] = [
  ['prefers a strong ETag', { etag: '"a"', lastModified: DATE }, '"a"'],
  ['uses the date when the ETag is weak', { etag: 'W/"a"', lastModified: DATE }, DATE],
  ['uses the date when there is no ETag', { etag: undefined, lastModified: DATE }, DATE],
  ['gives nothing for a weak ETag alone', { etag: 'W/"a"', lastModified: undefined }, undefined],
  ['gives nothing for an invalid date', { etag: undefined, lastModified: 'yesterday' }, undefined],
  ['ignores a malformed ETag', { etag: 'abc', lastModified: undefined }, undefined],
  ['gives nothing without validators', { etag: undefined, lastModified: undefined }, undefined],
];
for (const [name, version, expected] of ifRangeCases) {
  test(`ifRangeValue() ${name}`, () => {
    assert.equal(ifRangeValue(version), expected);
  });
}

test('canResume() resumes with a usable validator and restarts without one', () => {
  assert.deepEqual(canResume({ size: 10, etag: '"a"', lastModified: undefined }), {
    kind: 'resume',
    ifRange: '"a"',
  });
  assert.equal(canResume({ size: 10, etag: 'W/"a"', lastModified: undefined }).kind, 'restart');
  assert.equal(canResume({ size: 10, etag: undefined, lastModified: undefined }).kind, 'restart');
});

const v: RemoteVersion = { size: 1000, etag: '"a"', lastModified: DATE };
const open = (start: number): Asked => ({ start, end: undefined, ranged: true });
const bounded = (start: number, end: number): Asked => ({ start, end, ranged: true });
const plain: Asked = { start: 0, end: undefined, ranged: false };
const r206 = (cr: string, extra: Partial<ResponseFacts> = {}): ResponseFacts => ({
  status: 206,
  contentRange: cr,
  etag: '"a"',
  lastModified: DATE,
  ...extra,
});

const cases: [string, Asked, ResponseFacts, RemoteVersion | undefined, Verdict['kind'], string?][] =
  [
    [
      'accepts a 206 for an open range on a new download',
      open(0),
      r206('bytes 0-999/1000'),
      undefined,
      'partial',
    ],
    [
      'accepts a 206 for a bounded range',
      bounded(100, 200),
      r206('bytes 100-199/1000'),
      v,
      'partial',
    ],
    [
      'accepts a bounded range cut at the end of the file',
      bounded(900, 2000),
      r206('bytes 900-999/1000'),
      v,
      'partial',
    ],
    [
      'sends a 206 that starts later than asked back as misplaced',
      bounded(100, 200),
      r206('bytes 101-199/1000'),
      v,
      'misplaced',
    ],
    [
      'accepts a 206 that starts earlier than asked and covers the rest',
      open(100),
      r206('bytes 0-999/1000'),
      v,
      'partial',
    ],
    [
      'sees a change in a 206 that starts earlier than asked',
      open(100),
      r206('bytes 0-999/1000', { etag: '"b"' }),
      v,
      'changed',
      'ETag',
    ],
    [
      'sends a 206 that ends early back',
      bounded(100, 200),
      r206('bytes 100-150/1000'),
      v,
      'misplaced',
    ],
    ['accepts a 206 that ends late', bounded(100, 200), r206('bytes 100-299/1000'), v, 'partial'],
    [
      'sends an earlier 206 that ends early back',
      bounded(100, 200),
      r206('bytes 50-150/1000'),
      v,
      'misplaced',
    ],
    ['rejects a 206 without Content-Range', open(0), { status: 206 }, undefined, 'invalid'],
    ['rejects a 206 with an unknown length', open(0), r206('bytes 0-999/*'), undefined, 'invalid'],
    ['rejects a 206 with a multipart type', open(0), r206('nonsense'), undefined, 'invalid'],
    [
      'rejects a 206 to a request without Range',
      plain,
      r206('bytes 0-999/1000'),
      undefined,
      'invalid',
    ],
    [
      'rejects an encoded body',
      open(0),
      r206('bytes 0-999/1000', { contentEncoding: 'gzip' }),
      undefined,
      'invalid',
    ],
    [
      'accepts Content-Encoding: identity',
      open(0),
      r206('bytes 0-999/1000', { contentEncoding: 'identity' }),
      v,
      'partial',
    ],
    [
      'sees a new size in a 206 as a change',
      open(100),
      r206('bytes 100-1099/1100'),
      v,
      'changed',
      'size',
    ],
    [
      'sees a new ETag in a 206 as a change (If-Range ignored)',
      open(100),
      r206('bytes 100-999/1000', { etag: '"b"' }),
      v,
      'changed',
      'ETag',
    ],
    [
      'sees a new date in a 206 as a change',
      open(100),
      r206('bytes 100-999/1000', { lastModified: DATE2 }),
      v,
      'changed',
      'Last-Modified',
    ],
    [
      'sees a 206 with no validator at all as a change',
      open(100),
      r206('bytes 100-999/1000', { etag: undefined, lastModified: undefined }),
      v,
      'changed',
      'no validator',
    ],
    [
      'accepts a 206 that omits only the date',
      open(100),
      r206('bytes 100-999/1000', { lastModified: undefined }),
      v,
      'partial',
    ],
    [
      'accepts a 200 on a new download',
      open(0),
      { status: 200, contentLength: '1000' },
      undefined,
      'full',
    ],
    [
      'sees a 200 with a new ETag as a change',
      open(100),
      { status: 200, contentLength: '1000', etag: '"b"', lastModified: DATE },
      v,
      'changed',
    ],
    [
      'sees a 200 with a new size as a change',
      open(100),
      { status: 200, contentLength: '999', etag: '"a"', lastModified: DATE },
      v,
      'changed',
    ],
    [
      'takes a 200 with the same validators as the same version',
      open(100),
      { status: 200, contentLength: '1000', etag: '"a"', lastModified: DATE },
      v,
      'full',
    ],
    [
      'takes a 416 with the expected size as complete',
      open(1000),
      { status: 416, contentRange: 'bytes */1000' },
      v,
      'complete',
    ],
    [
      'sees a 416 with another size as a change',
      open(1000),
      { status: 416, contentRange: 'bytes */2000' },
      v,
      'changed',
    ],
    [
      'sees a 416 for a byte that should exist as a change',
      open(500),
      { status: 416, contentRange: 'bytes */400' },
      v,
      'changed',
    ],
    [
      'takes a 416 of an empty file on a new download as complete',
      open(0),
      { status: 416, contentRange: 'bytes */0' },
      undefined,
      'complete',
    ],
    ['leaves a 416 without Content-Range to the caller', open(1000), { status: 416 }, v, 'status'],
    ['leaves a 404 to the caller', open(0), { status: 404 }, undefined, 'status'],
    ['leaves a 503 to the caller', open(0), { status: 503 }, v, 'status'],
  ];
for (const [name, asked, facts, expected, kind, reason] of cases) {
  test(`checkResponse() ${name}`, () => {
    const verdict = checkResponse(asked, facts, expected);
    assert.equal(verdict.kind, kind, JSON.stringify(verdict));
    if (reason !== undefined)
      assert.match((verdict as { reason: string }).reason, new RegExp(reason));
  });
}

test('checkResponse() reports the bytes of a good 206, end exclusive', () => {
  assert.deepEqual(checkResponse(bounded(100, 200), r206('bytes 100-199/1000'), v), {
    kind: 'partial',
    start: 100,
    end: 200,
    skip: 0,
    size: 1000,
    version: v,
  });
});

test('checkResponse() tells how many bytes of an earlier 206 to read past', () => {
  assert.deepEqual(checkResponse(bounded(100, 200), r206('bytes 40-199/1000'), v), {
    kind: 'partial',
    start: 40,
    end: 200,
    skip: 60,
    size: 1000,
    version: v,
  });
});

test('checkResponse() only proves a 200 is the same version with a usable validator', () => {
  const weak: RemoteVersion = { size: 1000, etag: 'W/"a"', lastModified: undefined };
  const verdict = checkResponse(
    open(100),
    { status: 200, contentLength: '1000', etag: 'W/"a"' },
    weak,
  );
  assert.deepEqual(verdict, { kind: 'full', version: weak, sameVersion: false });
  const strong = checkResponse(
    open(100),
    { status: 200, contentLength: '1000', etag: '"a"', lastModified: DATE },
    v,
  );
  assert.equal(strong.kind === 'full' && strong.sameVersion, true);
});

const declaredCases: [
  string,
  Asked,
  ResponseFacts,
  RemoteVersion | undefined,
  number | undefined,
][] = [
  ['the complete length of a 206', bounded(0, 10), r206('bytes 0-9/1000'), undefined, 1000],
  [
    'the Content-Length of a 200',
    plain,
    { status: 200, contentLength: '5000', etag: '"a"' },
    undefined,
    5000,
  ],
  ['nothing for a 200 without a length', plain, { status: 200 }, undefined, undefined],
  [
    'the new size of a changed file',
    open(10),
    { status: 200, contentLength: '7000', etag: '"b"' },
    v,
    7000,
  ],
  [
    'the size of a 416 that says the file changed',
    open(10),
    { status: 416, contentRange: 'bytes */9000' },
    v,
    9000,
  ],
  ['nothing for a 404', plain, { status: 404 }, undefined, undefined],
  ['nothing for an invalid 206', open(0), r206('bytes 0-9/*'), undefined, undefined],
];
for (const [name, asked, facts, expected, size] of declaredCases) {
  test(`declaredSize() gives ${name}`, () => {
    assert.equal(declaredSize(checkResponse(asked, facts, expected)), size);
  });
}

const journalFor = (extra: Partial<Journal> = {}): Journal => ({
  url: 'http://h/f',
  size: 1000,
  etag: '"a"',
  lastModified: DATE,
  acceptRanges: true,
  done: [{ start: 0, end: 100 }],
  ...extra,
});
const trustCases: [string, Journal, { url: string; partSize: number | undefined }, Trust][] = [
  [
    'trusts a matching journal and part file',
    journalFor(),
    { url: 'http://h/f', partSize: 1000 },
    { kind: 'resume' },
  ],
  [
    'calls a journal for another URL with a size and a strong ETag moved (the probe decides)',
    journalFor(),
    { url: 'http://h/g', partSize: 1000 },
    { kind: 'moved', url: 'http://h/f' },
  ],
  [
    'calls a journal for another URL with a size and only Last-Modified moved',
    journalFor({ etag: undefined }),
    { url: 'http://h/g', partSize: 1000 },
    { kind: 'moved', url: 'http://h/f' },
  ],
  [
    'refuses a journal for another URL whose ETag is weak (RFC 9110 §8.8.1)',
    journalFor({ etag: 'W/"a"' }),
    { url: 'http://h/g', partSize: 1000 },
    { kind: 'foreign', url: 'http://h/f' },
  ],
  [
    'refuses a journal for another URL without a size',
    journalFor({ size: undefined }),
    { url: 'http://h/g', partSize: 1000 },
    { kind: 'foreign', url: 'http://h/f' },
  ],
  [
    'refuses a journal for another URL without a validator',
    journalFor({ etag: undefined, lastModified: undefined }),
    { url: 'http://h/g', partSize: 1000 },
    { kind: 'foreign', url: 'http://h/f' },
  ],
  [
    'refuses a journal for another URL whose part file is truncated',
    journalFor(),
    { url: 'http://h/g', partSize: 10 },
    { kind: 'foreign', url: 'http://h/f' },
  ],
  [
    'starts over when the part file is missing',
    journalFor(),
    { url: 'http://h/f', partSize: undefined },
    { kind: 'part-missing', held: true },
  ],
  [
    'starts over quietly when a missing part file held nothing',
    journalFor({ done: [] }),
    { url: 'http://h/f', partSize: undefined },
    { kind: 'part-missing', held: false },
  ],
  [
    'starts over when the part file was truncated',
    journalFor(),
    { url: 'http://h/f', partSize: 10 },
    { kind: 'part-size', size: 10, expected: 1000 },
  ],
  [
    'accepts a longer part file when the size is unknown',
    journalFor({ size: undefined }),
    { url: 'http://h/f', partSize: 150 },
    { kind: 'resume' },
  ],
  [
    'refuses a shorter part file than the held prefix when the size is unknown',
    journalFor({ size: undefined }),
    { url: 'http://h/f', partSize: 50 },
    { kind: 'part-size', size: 50, expected: 100 },
  ],
  [
    'starts over without a usable validator',
    journalFor({ etag: 'W/"a"', lastModified: undefined }),
    { url: 'http://h/f', partSize: 1000 },
    {
      kind: 'unprovable',
      reason:
        'the server sent only a weak ETag and no Last-Modified, so an unchanged file cannot be proven',
    },
  ],
  [
    'trusts an empty journal without validators',
    journalFor({ etag: undefined, lastModified: undefined, done: [] }),
    { url: 'http://h/f', partSize: 1000 },
    { kind: 'resume' },
  ],
];
for (const [name, journal, facts, expected] of trustCases) {
  test(`trustJournal() ${name}`, () => {
    assert.deepEqual(trustJournal(journal, facts), expected);
  });
}
