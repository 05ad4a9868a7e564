import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { EMPTY_ETAG, multipartEtag, unquote } from '../../src/server/sources/s3-objects.js';

const MiB = 1024 * 1024;

test('multipartEtag(): the MD5 of the parts MD5s and the count, as Ceph RGW 16.2 gave it', () => {
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  const first = md5(Buffer.alloc(6 * MiB, 1));
  assert.equal(first, '4715e35cf900ae14837e3c098e87d522');
  // Measured: parts of 6 MiB of 0x01 and 100 bytes of 0x02 made "18e248ff…-2".
  const etag = multipartEtag([`"${first}"`, md5(Buffer.alloc(100, 2))]);
  assert.equal(etag, '18e248ffead568a3c99e874c8cc06ba9-2');
});

const unquoteRows: [etag: string | undefined, bare: string][] = [
  ['"d41d8cd98f00b204e9800998ecf8427e"', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['W/"ABC"', 'abc'],
  ['18E248FF-2', '18e248ff-2'],
  ['', ''],
  [undefined, ''],
];

for (const [etag, bare] of unquoteRows) {
  test(`unquote() makes ${JSON.stringify(etag)} ${JSON.stringify(bare)}`, () => {
    assert.equal(unquote(etag), bare);
  });
}

test('EMPTY_ETAG is the MD5 of no bytes', () => {
  assert.equal(EMPTY_ETAG, 'd41d8cd98f00b204e9800998ecf8427e');
});
