import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  BufferBudget,
  MAX_APPEND_BYTES,
  multipartEtag,
  PART_SIZE,
  partSizeFor,
} from '../../src/server/sources/s3-upload-store.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test('part size: 8 MiB; a declared length gets at most 9,000 parts; an unknown one grows', () => {
  assert.equal(PART_SIZE, 8 * MiB);
  assert.equal(partSizeFor(0, 0), 8 * MiB);
  assert.equal(partSizeFor(70 * GiB, 0), 8 * MiB);
  assert.equal(partSizeFor(1024 * GiB, 0), 117 * MiB);
  assert.ok((5 * 1024 * GiB) / partSizeFor(5 * 1024 * GiB, 0) <= 9_000);
  assert.equal(partSizeFor(null, 0), 8 * MiB);
  assert.equal(partSizeFor(null, 16 * GiB), 16 * MiB);
  assert.equal(partSizeFor(null, 240 * GiB), 128 * MiB);
  // An unknown length streamed from 0: how far 10,000 parts reach.
  let at = 0;
  for (let n = 0; n < 10_000; n++) at += partSizeFor(null, at);
  assert.ok(at > 460 * GiB, `${at / GiB} GiB`);
});

test('multipart ETag: the MD5 of the parts MD5s and the count, as Ceph RGW 16.2 gave it', () => {
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  const first = md5(Buffer.alloc(6 * MiB, 1));
  assert.equal(first, '4715e35cf900ae14837e3c098e87d522');
  // Measured: parts of 6 MiB of 0x01 and 100 bytes of 0x02 made "18e248ff…-2".
  const etag = multipartEtag([`"${first}"`, md5(Buffer.alloc(100, 2))]);
  assert.equal(etag, '18e248ffead568a3c99e874c8cc06ba9-2');
});

test('buffer budget: takes in order while they fit, one alone may go past it, an abort leaves', async () => {
  assert.equal(MAX_APPEND_BYTES, 16 * PART_SIZE);
  const budget = new BufferBudget(10);
  const never = new AbortController().signal;
  const a = await budget.take(6, never);
  assert.ok(a !== undefined);
  const order: string[] = [];
  const b = budget.take(6, never).then((r) => {
    order.push('b');
    return r;
  });
  // Smaller, but behind b: waits too (no overtaking).
  const c = budget.take(1, never).then((r) => {
    order.push('c');
    return r;
  });
  const leaving = new AbortController();
  const d = budget.take(1, leaving.signal);
  leaving.abort();
  assert.equal(await d, undefined);
  await Promise.resolve();
  assert.deepEqual(order, []);
  a();
  const [rb, rc] = await Promise.all([b, c]);
  assert.deepEqual(order, ['b', 'c']);
  rb?.();
  rc?.();
  rc?.(); // twice is harmless
  const big = await budget.take(50, never);
  assert.ok(big !== undefined, 'one append with a larger part runs alone');
  big();
});
