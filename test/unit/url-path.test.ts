import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveUrlPath } from '../../src/core/url-path.js';

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
  '/%C3',
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
