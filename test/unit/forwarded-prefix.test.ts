import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardedPrefix } from '../../src/core/upload/forwarded-prefix.js';

// X-Forwarded-Prefix (de facto: Traefik StripPrefix, Spring, ASP.NET): a plain path (RFC 3986 §3.3).
const cases: [string | string[] | undefined, string][] = [
  [undefined, ''],
  ['', ''],
  ['/', ''],
  ['/files', '/files'],
  ['/files/', '/files'],
  [' /a/b ', '/a/b'],
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['/a, /b', '/a'],
  [['/x', '/y'], '/x'],
  ['files', ''],
  ['//evil.example', ''],
  ['/a//b', ''],
  ['/a/../b', ''],
  ['/./a', ''],
  ['/%2e%2e/x', ''],
  ['/a/%2E', ''],
  ['/.%2e', ''],
  ['/..a', '/..a'],
  ['/a?b', ''],
  ['/a#b', ''],
  ['/a b', ''],
  ['/a%zz', ''],
  ['http://h/files', ''],
  ['/a\r\nb', ''],
  [`/${'a'.repeat(300)}`, ''],
];

for (const [value, expected] of cases) {
  test(`forwardedPrefix(${JSON.stringify(value)}) is ${JSON.stringify(expected)}`, () => {
    assert.equal(forwardedPrefix(value), expected);
  });
}
