import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UploadRecord } from '../../src/core/upload/record.js';
import {
  type BusyOptions,
  COMPLETING_LEASE_MS,
  claimMs,
  countPart,
  decodeS3UploadState,
  encodeS3UploadState,
  isS3UploadBusy,
  keepsAppendPlace,
  MAX_PARTS,
  newS3UploadState,
  PART_SIZE,
  partSizeFor,
  partTimeoutMs,
  type S3UploadState,
  sumParts,
  withTail,
} from '../../src/core/upload/s3-state.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const record: UploadRecord = {
  v: 1,
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  protocol: 'tus',
  status: 'active',
  target: ['sub', 'a.bin'],
  length: 20 * MiB,
  metadata: null,
  concat: null,
  durable: 0,
  boot: 's3',
  created: 1_000,
  activity: 1_000,
  synced: 1_000,
};

/** An upload with two parts counted, a tail, and a live claim on part 3. */
const busy: S3UploadState = {
  v: 1,
  record,
  multipart: { uploadId: 'up-1', key: 'sub/a.bin' },
  parts: [
    { n: 1, etag: 'aa', size: 8 * MiB },
    { n: 2, etag: 'bb', size: 8 * MiB },
  ],
  claim: { n: 3, token: 'writer-a', until: 50_000 },
  tail: { key: 'u/AAAAAAAAAAAAAAAAAAAAAA/tail-x', size: 100, etag: 'cc' },
  offset: 16 * MiB + 100,
  completing: null,
  data: null,
  rev: 'rev-1',
};

const partSizeRows: [length: number | null, offset: number, size: number][] = [
  [0, 0, 8 * MiB],
  [70 * GiB, 0, 8 * MiB],
  // 9,000 parts of whole MiB.
  [1024 * GiB, 0, 117 * MiB],
  [null, 0, 8 * MiB],
  [null, 16 * GiB - 1, 8 * MiB],
  [null, 16 * GiB, 16 * MiB],
  [null, 48 * GiB, 32 * MiB],
  [null, 112 * GiB, 64 * MiB],
  [null, 240 * GiB, 128 * MiB],
  [null, 1024 * GiB, 128 * MiB],
];

for (const [length, offset, size] of partSizeRows) {
  test(`partSizeFor() gives ${size / MiB} MiB for length ${length} at ${offset}`, () => {
    assert.equal(partSizeFor(length, offset), size);
  });
}

test('partSizeFor() plans a declared length in at most 9,000 parts; an unknown one reaches 460 GiB', () => {
  assert.equal(PART_SIZE, 8 * MiB);
  assert.ok((5 * 1024 * GiB) / partSizeFor(5 * 1024 * GiB, 0) <= 9_000);
  // An unknown length streamed from 0: how far 10,000 parts reach.
  let at = 0;
  for (let n = 0; n < MAX_PARTS; n++) at += partSizeFor(null, at);
  assert.ok(at > 460 * GiB, `${at / GiB} GiB`);
});

const timeRows: [size: number, timeout: number, claim: number][] = [
  [0, 20_000, 45_000],
  [1, 21_000, 47_000],
  [8 * MiB, 28_000, 61_000],
  [8 * MiB + 1, 29_000, 63_000],
  [128 * MiB, 148_000, 301_000],
];

for (const [size, timeout, claim] of timeRows) {
  test(`partTimeoutMs() and claimMs() of ${size} bytes: ${timeout} ms, ${claim} ms`, () => {
    assert.equal(partTimeoutMs(size), timeout);
    assert.equal(claimMs(size), claim);
  });
}

test('sumParts() adds the parts sizes', () => {
  assert.equal(sumParts([]), 0);
  assert.equal(sumParts(busy.parts), 16 * MiB);
});

test('encodeS3UploadState() and decodeS3UploadState() round-trip a new and a busy state', () => {
  const fresh = newS3UploadState(record, 'rev-0');
  assert.equal(fresh.record, record);
  assert.equal(fresh.rev, 'rev-0');
  assert.equal(fresh.offset, 0);
  assert.deepEqual(fresh.parts, []);
  const unset = [fresh.multipart, fresh.claim, fresh.tail, fresh.completing, fresh.data];
  assert.deepEqual(unset, [null, null, null, null, null]);
  for (const state of [fresh, busy, { ...busy, completing: 9_000, data: { key: 'd', size: 5 } }]) {
    const text = encodeS3UploadState(state);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(decodeS3UploadState(text), state);
  }
});

test('decodeS3UploadState() reads absent optional fields as null', () => {
  const { multipart, claim, tail, completing, data, ...rest } = newS3UploadState(record, 'r');
  assert.deepEqual(decodeS3UploadState(JSON.stringify(rest)), newS3UploadState(record, 'r'));
});

const badStates: [name: string, text: string][] = [
  ['not JSON', '{"v":1,'],
  ['JSON null', 'null'],
  ['a number', '7'],
  ['another version', JSON.stringify({ ...busy, v: 2 })],
  ['no rev', JSON.stringify({ ...busy, rev: undefined })],
  ['parts not a list', JSON.stringify({ ...busy, parts: {} })],
  ['a part number skipped', JSON.stringify({ ...busy, parts: [busy.parts[1]] })],
  ['a part without an ETag', JSON.stringify({ ...busy, parts: [{ n: 1, size: 5 }] })],
  ['a part of negative size', JSON.stringify({ ...busy, parts: [{ n: 1, etag: 'a', size: -1 }] })],
  ['a part that is null', JSON.stringify({ ...busy, parts: [null] })],
  ['no offset', JSON.stringify({ ...busy, offset: undefined })],
  ['a fractional offset', JSON.stringify({ ...busy, offset: 1.5 })],
  ['an offset as text', JSON.stringify({ ...busy, offset: '100' })],
  ['a multipart upload without an id', JSON.stringify({ ...busy, multipart: { key: 'k' } })],
  ['a multipart upload as text', JSON.stringify({ ...busy, multipart: 'up-1' })],
  ['a claim without a token', JSON.stringify({ ...busy, claim: { n: 3, until: 5 } })],
  ['a claim on part 0', JSON.stringify({ ...busy, claim: { n: 0, token: 't', until: 5 } })],
  ['a claim as a list', JSON.stringify({ ...busy, claim: [] })],
  ['a tail without a size', JSON.stringify({ ...busy, tail: { key: 'k', etag: 'e' } })],
  ['data without a key', JSON.stringify({ ...busy, data: { size: 4 } })],
  ['completing as text', JSON.stringify({ ...busy, completing: 'now' })],
  ['no record', JSON.stringify({ ...busy, record: undefined })],
  ['a bad record', JSON.stringify({ ...busy, record: { ...record, status: 'paused' } })],
];

for (const [name, text] of badStates) {
  test(`decodeS3UploadState() refuses ${name}`, () => {
    assert.equal(decodeS3UploadState(text), undefined);
  });
}

const NOW = 40_000;
const busyRows: [name: string, state: S3UploadState, options: BusyOptions, busy: boolean][] = [
  ['a new upload', newS3UploadState(record, 'r'), {}, false],
  ['another writer’s live claim', busy, {}, true],
  ['another writer’s live claim, for an append (takeover)', busy, { takeover: true }, false],
  ['the writer’s own claim', busy, { token: 'writer-a' }, false],
  ['a claim that ran out', { ...busy, claim: { n: 3, token: 'x', until: NOW } }, {}, false],
  ['a claim with 1 ms left', { ...busy, claim: { n: 3, token: 'x', until: NOW + 1 } }, {}, true],
  ['a completion under way', { ...busy, claim: null, completing: NOW - 1_000 }, {}, true],
  [
    'a completion under way, for an append (takeover)',
    { ...busy, claim: null, completing: NOW - 1_000 },
    { takeover: true },
    true,
  ],
  [
    'the completion’s own mark',
    { ...busy, claim: null, completing: NOW - 1_000 },
    { mark: NOW - 1_000 },
    false,
  ],
  [
    'a completion whose lease ran out',
    { ...busy, claim: null, completing: NOW - COMPLETING_LEASE_MS },
    {},
    false,
  ],
  [
    'a completion whose lease ran out, and a live claim',
    { ...busy, completing: NOW - COMPLETING_LEASE_MS },
    {},
    true,
  ],
];

for (const [name, state, options, expected] of busyRows) {
  test(`isS3UploadBusy() is ${expected} for ${name}`, () => {
    assert.equal(isS3UploadBusy(state, NOW, options), expected);
  });
}

const placeRows: [name: string, fresh: S3UploadState, keeps: boolean][] = [
  ['the same state', busy, true],
  ['a deferred length declared', { ...busy, record: { ...record, length: 99 * MiB } }, true],
  ['a new rev only', { ...busy, rev: 'rev-2' }, true],
  ['a terminated upload', { ...busy, record: { ...record, status: 'terminated' } }, false],
  ['another offset', { ...busy, offset: busy.offset + 1 }, false],
  [
    'another part counted',
    { ...busy, parts: [...busy.parts, { n: 3, etag: 'd', size: 1 }] },
    false,
  ],
  ['another tail', { ...busy, tail: { key: 'other', size: 100, etag: 'cc' } }, false],
  ['a completion begun', { ...busy, completing: 1 }, false],
  ['the claim taken over', { ...busy, claim: { n: 3, token: 'writer-b', until: 1 } }, false],
  ['the claim ended', { ...busy, claim: null }, false],
];

for (const [name, fresh, keeps] of placeRows) {
  test(`keepsAppendPlace() is ${keeps} after ${name}`, () => {
    assert.equal(keepsAppendPlace(fresh, busy), keeps);
  });
}

test('keepsAppendPlace() lets an append without a claim go on only while none is made', () => {
  const free = { ...busy, claim: null };
  assert.equal(keepsAppendPlace(free, free), true);
  assert.equal(keepsAppendPlace(busy, free), false);
});

test('countPart() counts the claimed part: no claim, no tail, the offset its sum', () => {
  const next = countPart(busy, { n: 3, etag: 'dd', size: 8 * MiB }, 77_000);
  assert.deepEqual(next, {
    ...busy,
    parts: [...busy.parts, { n: 3, etag: 'dd', size: 8 * MiB }],
    claim: null,
    tail: null,
    offset: 24 * MiB,
    record: { ...record, activity: 77_000 },
  });
  assert.deepEqual(decodeS3UploadState(encodeS3UploadState(next)), next);
});

test('withTail() sets the bytes past the last part and the offset, and ends the claim', () => {
  const tail = { key: 'u/x/tail-y', size: 300, etag: 'ee' };
  const next = withTail(busy, tail, 78_000);
  assert.notEqual(busy.claim, null);
  assert.deepEqual(next, {
    ...busy,
    tail,
    claim: null,
    offset: 16 * MiB + 300,
    record: { ...record, activity: 78_000 },
  });
  assert.equal(withTail(busy, null, 78_000).offset, 16 * MiB);
});
