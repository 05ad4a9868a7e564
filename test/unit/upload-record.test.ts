import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  claimableOffset,
  decodeRecord,
  encodeRecord,
  isExpired,
  newRecord,
  type UploadRecord,
} from '../../src/core/upload/record.js';

const BOOT = 'boot-a';
const record: UploadRecord = {
  v: 1,
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  protocol: 'tus',
  status: 'active',
  target: ['sub', 'a.bin'],
  length: 1000,
  metadata: 'filename c3ViL2EuYmlu',
  concat: null,
  durable: 300,
  boot: BOOT,
  created: 1_000,
  activity: 2_000,
  synced: 2_000,
};

interface OffsetRow {
  name: string;
  durable: number;
  size: number;
  pending: number | undefined;
  boot: string;
  offset: number;
}

const offsetRows: OffsetRow[] = [
  // The same boot: a kill -9 keeps the page cache, so every byte in the data file is there.
  {
    name: 'same boot trusts the data size',
    durable: 300,
    size: 700,
    pending: undefined,
    boot: BOOT,
    offset: 700,
  },
  {
    name: 'same boot, data shorter than durable',
    durable: 300,
    size: 200,
    pending: undefined,
    boot: BOOT,
    offset: 200,
  },
  {
    name: 'same boot, nothing stored',
    durable: 0,
    size: 0,
    pending: undefined,
    boot: BOOT,
    offset: 0,
  },
  // A checksummed chunk that was never verified does not count (tus checksum extension).
  {
    name: 'a pending marker pulls the offset back',
    durable: 300,
    size: 700,
    pending: 400,
    boot: BOOT,
    offset: 400,
  },
  { name: 'a pending marker at 0', durable: 0, size: 900, pending: 0, boot: BOOT, offset: 0 },
  {
    name: 'a pending marker past the data is no claim',
    durable: 300,
    size: 350,
    pending: 400,
    boot: BOOT,
    offset: 350,
  },
  // Another boot: only what was synced (durable) survived the power cut.
  {
    name: 'another boot trusts only durable',
    durable: 300,
    size: 700,
    pending: undefined,
    boot: 'boot-b',
    offset: 300,
  },
  {
    name: 'another boot ignores the pending marker',
    durable: 300,
    size: 700,
    pending: 100,
    boot: 'boot-b',
    offset: 300,
  },
  {
    name: 'another boot, data shorter than durable',
    durable: 300,
    size: 120,
    pending: undefined,
    boot: 'boot-b',
    offset: 120,
  },
];

for (const row of offsetRows) {
  test(`claimableOffset() ${row.name}`, () => {
    const offset = claimableOffset(
      { ...record, durable: row.durable },
      { size: row.size, pending: row.pending, boot: row.boot },
    );
    assert.equal(offset, row.offset);
    assert.ok(offset <= row.size, 'never more than the bytes on disk');
  });
}

test('decodeRecord() reads back what encodeRecord() wrote', () => {
  const text = encodeRecord(record);
  assert.ok(text.endsWith('\n'));
  assert.deepEqual(decodeRecord(text), record);
  const partial: UploadRecord = {
    ...record,
    target: null,
    length: null,
    concat: { kind: 'partial' },
  };
  assert.deepEqual(decodeRecord(encodeRecord(partial)), partial);
});

const full = encodeRecord(record);
const badRecords: Array<[string, string]> = [
  ['torn in the middle', full.slice(0, Math.floor(full.length / 2))],
  ['torn after one byte', full.slice(0, 1)],
  ['empty', ''],
  ['zeros (a block of a crashed write)', '\0'.repeat(64)],
  ['null', 'null'],
  ['an array', '[1,2,3]'],
  ['a string', '"record"'],
  ['a foreign JSON object', '{"Size":100,"Offset":50,"MetaData":{}}'],
  ['another format version', JSON.stringify({ ...record, v: 2 })],
  ['an unknown protocol', JSON.stringify({ ...record, protocol: 'ftp' })],
  ['an unknown status', JSON.stringify({ ...record, status: 'paused' })],
  ['a negative durable', JSON.stringify({ ...record, durable: -1 })],
  ['a fractional durable', JSON.stringify({ ...record, durable: 1.5 })],
  ['a string durable', JSON.stringify({ ...record, durable: '300' })],
  ['a huge durable', `${full.replace('"durable":300', '"durable":1e300')}`],
  ['a negative length', JSON.stringify({ ...record, length: -5 })],
  ['a missing boot', JSON.stringify({ ...record, boot: undefined })],
  ['a numeric id', JSON.stringify({ ...record, id: 7 })],
  ['a target that is a string', JSON.stringify({ ...record, target: 'sub/a.bin' })],
  ['a target with a number', JSON.stringify({ ...record, target: ['sub', 3] })],
  ['a missing activity', JSON.stringify({ ...record, activity: undefined })],
];

for (const [name, text] of badRecords) {
  test(`decodeRecord() gives undefined for ${name}`, () => {
    assert.equal(decodeRecord(text), undefined);
  });
}

test('isExpired() counts from the last activity, and only for an active upload', () => {
  const expires = 10_000;
  assert.equal(isExpired(record, record.activity + expires - 1, expires), false);
  assert.equal(isExpired(record, record.activity + expires, expires), true);
  assert.equal(isExpired(record, record.activity + expires + 1, expires), true);
  // The creation time does not count: a long-running but active upload lives on.
  assert.equal(isExpired({ ...record, created: 0, activity: 50_000 }, 55_000, expires), false);
  for (const status of ['complete', 'expired', 'terminated'] as const) {
    assert.equal(isExpired({ ...record, status }, record.activity + 10 * expires, expires), false);
  }
});

test('decodeRecord() reads a record without `synced` as never checkpointed (0), and refuses a bad one', () => {
  const { synced: _, ...older } = record;
  assert.equal(decodeRecord(JSON.stringify(older))?.synced, 0);
  assert.equal(decodeRecord(JSON.stringify({ ...record, synced: -1 })), undefined);
  assert.equal(decodeRecord(JSON.stringify({ ...record, synced: '5' })), undefined);
});

test('newRecord: an active upload with nothing stored, its times and boot as given', () => {
  const input = {
    id: 'A'.repeat(22),
    protocol: 'tus' as const,
    target: ['music', 'a.wav'],
    length: 10,
    metadata: null,
    concat: null,
  };
  const record = newRecord(input, { boot: 'b1', now: 1000, synced: 0 });
  assert.deepEqual(record, {
    v: 1,
    ...input,
    status: 'active',
    durable: 0,
    boot: 'b1',
    created: 1000,
    activity: 1000,
    synced: 0,
  });
  // A record of it survives its own codec.
  assert.deepEqual(decodeRecord(encodeRecord(record)), record);
});
