/** core/s3-location.ts: which bucket and folder `s3://…` names, and the keys of request paths. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isS3Url, keyFor, parseS3Location } from '../../src/core/s3-location.js';

test('parseS3Location: a bucket, and a prefix as a folder ending in /', () => {
  const cases: [string, { bucket: string; prefix: string } | 'bad'][] = [
    ['s3://media', { bucket: 'media', prefix: '' }],
    ['s3://media/', { bucket: 'media', prefix: '' }],
    ['s3://media/site', { bucket: 'media', prefix: 'site/' }],
    ['s3://media/site/', { bucket: 'media', prefix: 'site/' }],
    ['s3://media/a//b/', { bucket: 'media', prefix: 'a/b/' }],
    ['S3://media.example-1/x', { bucket: 'media.example-1', prefix: 'x/' }],
    // AWS bucket naming rules: 3-63 characters, lowercase letters, digits, dots, hyphens.
    ['s3://ab', 'bad'],
    ['s3://', 'bad'],
    ['s3://Media', 'bad'],
    ['s3://-media', 'bad'],
    ['s3://media-', 'bad'],
    ['s3://me..dia', 'bad'],
    [`s3://${'a'.repeat(64)}`, 'bad'],
    ['s3://media/../etc', 'bad'],
    ['s3://media/./x', 'bad'],
    ['http://media', 'bad'],
    ['media', 'bad'],
  ];
  for (const [text, want] of cases) {
    const got = parseS3Location(text);
    if (want === 'bad') assert.equal(got.kind, 'bad', text);
    else assert.deepEqual(got, { kind: 'ok', location: want }, text);
  }
});

test('isS3Url tells an s3:// source from a folder', () => {
  assert.equal(isS3Url('s3://x'), true);
  assert.equal(isS3Url('S3://x'), true);
  assert.equal(isS3Url('./s3://x'), false);
  assert.equal(isS3Url('music'), false);
});

test('keyFor: keys stay under the prefix, so site-other/ is never reachable from site/', () => {
  const site = { bucket: 'b', prefix: 'site/' };
  assert.equal(keyFor(site, ['a', 'b.mp3']), 'site/a/b.mp3');
  assert.equal(keyFor(site, []), 'site/');
  assert.equal(keyFor(site, [], true), 'site/');
  assert.equal(keyFor(site, ['music'], true), 'site/music/');
  assert.equal(keyFor({ bucket: 'b', prefix: '' }, ['x']), 'x');
  assert.equal(keyFor({ bucket: 'b', prefix: '' }, [], true), '');
  for (const key of [keyFor(site, ['-other', 'x']), keyFor(site, ['x'])]) {
    assert.ok(key.startsWith('site/'), key);
  }
});
