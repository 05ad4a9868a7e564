import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRequest } from '../../src/client/transport/http1-request.js';

test('formatRequest() writes GET, Host, Connection: close and the fields (RFC 9112 §3)', () => {
  const url = new URL('http://example.com:8080/a%20b?x=1#frag');
  assert.equal(
    formatRequest(url, { range: 'bytes=0-', 'If-Range': '"a"' }),
    'GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n' +
      'range: bytes=0-\r\nIf-Range: "a"\r\n\r\n',
  );
});

test('formatRequest() sends / for an empty path', () => {
  assert.match(
    formatRequest(new URL('http://[::1]'), {}),
    /^GET \/ HTTP\/1\.1\r\nHost: \[::1\]\r\n/,
  );
});

test('formatRequest() writes the absolute-form to a proxy, without credentials or fragment (RFC 9112 §3.2.2)', () => {
  assert.match(
    formatRequest(new URL('http://u:p@example.com:8080/a?x=1#frag'), {}, { absolute: true }),
    /^GET http:\/\/example\.com:8080\/a\?x=1 HTTP\/1\.1\r\nHost: example\.com:8080\r\n/,
  );
  assert.match(
    formatRequest(new URL('http://[::1]'), {}, { absolute: true }),
    /^GET http:\/\/\[::1\]\/ HTTP\/1\.1\r\n/,
  );
});

const refused: [string, Record<string, string>, RegExp][] = [
  // RFC 9110 §5.5: a field value holds no CR, LF or NUL; one would end the head early
  ['a CR', { range: 'bytes=0-\rX: 1' }, /Cannot send header "range": value contains CR, LF or NUL/],
  [
    'an LF',
    { 'if-range': '"a"\nGET / HTTP/1.1' },
    /Cannot send header "if-range": value contains CR, LF or NUL/,
  ],
  ['a CRLF pair', { x: 'a\r\n\r\nGET /other HTTP/1.1' }, /value contains CR, LF or NUL/],
  ['a NUL', { x: 'a\0' }, /value contains CR, LF or NUL/],
  ['a character beyond latin1', { x: 'caf\u00e9 \u20ac' }, /above U\+00FF/],
  // RFC 9110 §5.1: field-name = token
  ['a space in a name', { 'x y': '1' }, /Cannot send header "x y": the name is not a token/],
  ['a colon in a name', { 'x:': '1' }, /the name is not a token/],
  ['an empty name', { '': '1' }, /the name is not a token/],
  ['a CRLF in a name', { 'x\r\ny': '1' }, /the name is not a token/],
];

for (const [what, headers, message] of refused) {
  test(`formatRequest() refuses a header with ${what}`, () => {
    assert.throws(
      () => formatRequest(new URL('http://h/'), headers),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, message);
        return true;
      },
    );
  });
}

test('formatRequest() keeps HTAB, obs-text and an empty value', () => {
  assert.match(
    formatRequest(new URL('http://h/'), { x: 'a\tcaf\u00e9', y: '' }),
    /\r\nx: a\tcaf\u00e9\r\ny: \r\n\r\n$/,
  );
});
