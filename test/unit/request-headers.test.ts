/** core/request-headers.ts: the user's header fields (RFC 9110 §5), and where they are sent. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkHeader,
  headersForHop,
  mergeHeaders,
  parseHeaderLine,
} from '../../src/core/request-headers.js';

const lineCases: [string, string, { name: string; value: string } | RegExp][] = [
  ['a name and a value', 'X-Token: abc', { name: 'X-Token', value: 'abc' }],
  ['the value trimmed of spaces and tabs (§5.5)', 'A:\t b c \t', { name: 'A', value: 'b c' }],
  ['an empty value', 'X-Empty:', { name: 'X-Empty', value: '' }],
  ['a colon inside the value', 'Referer: http://a/b', { name: 'Referer', value: 'http://a/b' }],
  ['obs-text in the value', 'X-L: caf\u00e9', { name: 'X-L', value: 'caf\u00e9' }],
  ["a User-Agent (replaces ranged's)", 'User-Agent: me/1', { name: 'User-Agent', value: 'me/1' }],
  ['Authorization', 'Authorization: Bearer t', { name: 'Authorization', value: 'Bearer t' }],
  ['no colon', 'X-Token abc', /has no colon/],
  ['an empty name', ': v', /not a valid field name/],
  ['a space in the name (§5.1: a token)', 'X Token: v', /not a valid field name/],
  ['a space before the colon', 'X-Token : v', /not a valid field name/],
  ['a CR in the value', 'X: a\rb', /control character/],
  ['an LF in the value', 'X: a\nInjected: 1', /control character/],
  ['a NUL in the value', 'X: a\0b', /control character/],
  ['a character past Latin-1', 'X: \u263a', /outside Latin-1/],
  ['Range (the engine asks for ranges)', 'Range: bytes=0-', /Range cannot be set/],
  ['If-Range in any case', 'if-RANGE: "x"', /cannot be set/],
  ['Accept-Encoding (field gap 6)', 'Accept-Encoding: gzip', /as stored/],
  ['If-None-Match', 'If-None-Match: *', /cannot be set/],
  ['Host', 'Host: other', /taken from the URL/],
  ['Connection', 'Connection: keep-alive', /connections/],
  ['Transfer-Encoding', 'Transfer-Encoding: chunked', /no body/],
  ['Proxy-Authorization', 'Proxy-Authorization: Basic x', /proxy URL/],
];
for (const [name, line, expected] of lineCases) {
  test(`parseHeaderLine() takes ${name}`, () => {
    const check = parseHeaderLine(line);
    if (expected instanceof RegExp) {
      assert.equal(check.kind, 'invalid');
      assert.match(check.kind === 'invalid' ? check.reason : '', expected);
    } else assert.deepEqual(check, { kind: 'ok', ...expected });
  });
}

test('checkHeader() checks a field given as name and value (the library option)', () => {
  assert.deepEqual(checkHeader({ name: 'X-A', value: ' 1 ' }), {
    kind: 'ok',
    name: 'X-A',
    value: '1',
  });
  assert.equal(checkHeader({ name: 'X-A\r\n', value: '1' }).kind, 'invalid');
});

test('mergeHeaders() joins a repeated name with ", " and a repeated Cookie with "; "', () => {
  assert.deepEqual(
    mergeHeaders([
      { name: 'X-A', value: '1' },
      { name: 'Cookie', value: 'a=1' },
      { name: 'x-a', value: '2' },
      { name: 'cookie', value: 'b=2' },
    ]),
    { 'X-A': '1, 2', Cookie: 'a=1; b=2' },
  );
});

const hopCases: [string, string, string, boolean][] = [
  ['the same origin', 'http://a:8080', 'http://a:8080', true],
  ['another host', 'http://a', 'http://b', false],
  ['another port', 'http://a:8080', 'http://a:8081', false],
  ['another scheme (http to https)', 'http://a', 'https://a', false],
];
for (const [name, trusted, hop, sent] of hopCases) {
  test(`headersForHop() ${sent ? 'sends' : 'drops'} the user's fields on ${name}`, () => {
    const headers = { Authorization: 'Bearer t', Cookie: 'a=1', 'X-A': '1' };
    assert.deepEqual(headersForHop(headers, { trusted, hop }), sent ? headers : {});
  });
}
