import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refuseSegment, resolveUrlPath } from '../../src/core/url-path.js';

const ok: [string, string[], boolean?][] = [
  ['/', []],
  ['/a.txt', ['a.txt']],
  ['/dir/', ['dir'], true],
  ['/a%20b.txt?x=1', ['a b.txt']],
  ['/caf%C3%A9', ['café']],
  ['/a/./b', ['a', 'b']],
  ['//a//b', ['a', 'b']],
  ['/%252e%252e/x', ['%2e%2e', 'x']], // double-encoded: a literal name, not a parent
  ['http://example.com/a/b', ['a', 'b']],
];
for (const [target, segments, slash] of ok) {
  test(`resolveUrlPath() reads ${target}`, () => {
    const r = resolveUrlPath(target);
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') {
      assert.deepEqual(r.segments, segments);
      assert.equal(r.trailingSlash, slash ?? false);
    }
  });
}

const bad = [
  '/../etc/passwd',
  '/a/../../b',
  '/%2e%2e/etc/passwd',
  '/%2E%2E/x',
  '/a%00.txt',
  '/%',
  '/%zz',
  '/%4',
  '/a%2',
  '*',
];
for (const target of bad) {
  test(`resolveUrlPath() refuses ${target} with 400`, () => {
    assert.equal(resolveUrlPath(target).kind, 'bad-request');
  });
}

const notFound = ['/a%2fb', '/..%2fetc%2fpasswd', '/a%5cb', '/.env', '/dir/.git/config', '/..foo'];
for (const target of notFound) {
  test(`resolveUrlPath() hides ${target} with 404`, () => {
    assert.equal(resolveUrlPath(target).kind, 'not-found');
  });
}

test('resolveUrlPath() serves dotfiles when asked', () => {
  assert.deepEqual(resolveUrlPath('/..foo', { dotfiles: true }).kind, 'ok');
  assert.deepEqual(resolveUrlPath('/.env', { dotfiles: true }), {
    kind: 'ok',
    segments: ['.env'],
    trailingSlash: false,
    query: '',
  });
});

// Linux names are bytes: a name that is not UTF-8 is still a name (issue 9), with its exact bytes.
const bytesCases: [string, string[], number[][]][] = [
  ['/%C3', ['\uFFFD'], [[0xc3]]],
  ['/%FF%FE.txt', ['\uFFFD\uFFFD.txt'], [[0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74]]],
  ['/d/%C0%AE%C0%AE', ['d', '\uFFFD\uFFFD\uFFFD\uFFFD'], [[0x64], [0xc0, 0xae, 0xc0, 0xae]]],
];
for (const [target, segments, bytes] of bytesCases) {
  test(`resolveUrlPath() keeps the bytes of ${target}, which are not UTF-8`, () => {
    const r = resolveUrlPath(target);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.segments, segments);
    assert.deepEqual(
      r.bytes?.map((b) => [...b]),
      bytes,
    );
  });
}

test('resolveUrlPath() gives no bytes when every name is UTF-8', () => {
  const r = resolveUrlPath('/caf%C3%A9/x');
  assert.equal(r.kind === 'ok' && r.bytes, undefined);
});

test('resolveUrlPath() refuses a byte name that hides a separator, a dot or NUL', () => {
  assert.equal(resolveUrlPath('/%FF%2F..').kind, 'not-found');
  assert.equal(resolveUrlPath('/%FF%5C').kind, 'not-found');
  assert.equal(resolveUrlPath('/.%FF').kind, 'not-found');
  assert.equal(resolveUrlPath('/%FF%00').kind, 'bad-request');
});

const segmentRules: [string, string | undefined, boolean?][] = [
  ['a.txt', undefined],
  ['..', 'bad-request'],
  ['a\u0000b', 'bad-request'],
  ['a\\b', 'not-found'],
  ['.env', 'not-found'],
  ['.env', undefined, true],
  ['..', 'bad-request', true],
];
for (const [segment, kind, dotfiles] of segmentRules) {
  test(`refuseSegment() gives ${kind ?? 'nothing'} for ${JSON.stringify(segment)}${dotfiles ? ' with dotfiles' : ''}`, () => {
    assert.equal(refuseSegment(segment, { dotfiles: dotfiles ?? false })?.kind, kind);
  });
}
