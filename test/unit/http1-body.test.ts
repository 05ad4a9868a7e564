import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyDecoder } from '../../src/client/transport/http1-body.js';
import type { Framing } from '../../src/client/transport/http1-head.js';

interface Outcome {
  /** The body, or the reason it was refused (as a RegExp to match). */
  body: string | RegExp;
  /** Bytes of the input that belong to the body (when accepted). */
  used?: number;
}

/** Feeds `wire` whole, then byte by byte, then closes; both ways must agree. */
function decode(
  framing: Framing,
  wire: string,
  split: boolean,
): { body: string; used: number } | string {
  const decoder = new BodyDecoder(framing);
  const bytes = Buffer.from(wire, 'latin1');
  const parts: Buffer[] = [];
  let used = 0;
  const pieces = split ? Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)) : [bytes];
  for (const piece of pieces) {
    if (decoder.done) break;
    const step = decoder.feed(piece, (s) => parts.push(Buffer.from(s)));
    if (step.kind === 'error') return step.reason;
    used += step.used;
  }
  const reason = decoder.close();
  if (reason !== undefined) return reason;
  return { body: Buffer.concat(parts).toString('latin1'), used };
}

const C: Framing = { kind: 'chunked' };
const cases: [string, Framing, string, Outcome][] = [
  // RFC 9112 §6.3 item 6: exactly Content-Length bytes; more are not the body's
  ['a length', { kind: 'length', length: 3 }, 'abc', { body: 'abc', used: 3 }],
  [
    'a length, with bytes after it',
    { kind: 'length', length: 3 },
    'abcdef',
    { body: 'abc', used: 3 },
  ],
  [
    'a length cut short (RFC 9112 §8)',
    { kind: 'length', length: 3 },
    'ab',
    { body: /connection closed/ },
  ],
  ['a length of 0', { kind: 'length', length: 0 }, 'x', { body: '', used: 0 }],
  ['no body', { kind: 'none' }, 'x', { body: '', used: 0 }],
  // item 8: until the close
  ['a body until the close', { kind: 'close' }, 'all\r\nof it', { body: 'all\r\nof it', used: 10 }],
  // RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF
  ['chunks', C, '3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n', { body: 'abc0123456789', used: 28 }],
  [
    'upper and lower case hex',
    C,
    'a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n',
    { body: '01234567890123456789' },
  ],
  [
    'leading zeros in a size (not a large size)',
    C,
    '0000000000000000003\r\nabc\r\n00\r\n\r\n',
    { body: 'abc' },
  ],
  ['CR and LF inside chunk data', C, '4\r\n\r\n\r\n\r\n0\r\n\r\n', { body: '\r\n\r\n' }],
  ['bytes after the last chunk', C, '1\r\nx\r\n0\r\n\r\nHTTP/1.1', { body: 'x', used: 11 }],
  // §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), ignored
  ['extensions', C, '1;a;b=c;d="e;\\"f\\\\"\r\nx\r\n0;q=\r\n\r\n', { body: 'x' }],
  ['BWS in extensions (llhttp rejects it)', C, '1 ;\ta = b ; c\r\nx\r\n0\r\n\r\n', { body: 'x' }],
  ['obs-text in a quoted extension', C, '1;a="\xe9\t"\r\nx\r\n0\r\n\r\n', { body: 'x' }],
  ['an empty extension', C, '1;\r\nx\r\n0\r\n\r\n', { body: /extension name is malformed/ }],
  ['two semicolons', C, '1;;a\r\nx\r\n0\r\n\r\n', { body: /extension name is malformed/ }],
  [
    'a non-token extension value',
    C,
    '1;a=b@\r\nx\r\n0\r\n\r\n',
    { body: /extension value is malformed/ },
  ],
  [
    'a control in a quoted extension',
    C,
    '1;a="\x01"\r\nx\r\n0\r\n\r\n',
    { body: /extension value is malformed/ },
  ],
  [
    'text after a quoted extension',
    C,
    '1;a="b"c\r\nx\r\n0\r\n\r\n',
    { body: /extension is malformed/ },
  ],
  ['whitespace before the CRLF', C, '1 \r\nx\r\n0\r\n\r\n', { body: /extension is malformed/ }],
  ['a missing size', C, '\r\nx\r\n0\r\n\r\n', { body: /chunk size is missing/ }],
  ['a signed size', C, '-1\r\n', { body: /chunk size is missing/ }],
  ['a 0x size', C, '0x1\r\nx\r\n0\r\n\r\n', { body: /chunk size is malformed/ }],
  ['a size beyond 2^53', C, '20000000000000\r\n', { body: /too large/ }],
  ['a bare LF after a size', C, '1\nx\r\n0\r\n\r\n', { body: /malformed/ }],
  ['a bare CR after a size', C, '1\rx\r\n0\r\n\r\n', { body: /does not end in CRLF/ }],
  [
    'data longer than its size',
    C,
    '1\r\nxy\r\n0\r\n\r\n',
    { body: /chunk data does not end in CRLF/ },
  ],
  ['a bare LF after data', C, '1\r\nx\n0\r\n\r\n', { body: /chunk data does not end in CRLF/ }],
  ['no last chunk', C, '1\r\nx\r\n', { body: /inside a chunked body/ }],
  ['no final CRLF', C, '1\r\nx\r\n0\r\n', { body: /inside a chunked body/ }],
  // §7.1.2: trailer fields, checked like header fields, then dropped
  ['trailers', C, '1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n', { body: 'x' }],
  ['a trailer without its CRLF', C, '1\r\nx\r\n0\r\nA: 1\r\n', { body: /inside a chunked body/ }],
  [
    'a malformed trailer',
    C,
    '1\r\nx\r\n0\r\nA : 1\r\n\r\n',
    { body: /whitespace between a field name/ },
  ],
  ['NUL in a trailer', C, '1\r\nx\r\n0\r\nA: \0\r\n\r\n', { body: /control character/ }],
  ['a bare LF in the trailers', C, '1\r\nx\r\n0\r\nA: 1\n\r\n', { body: /bare LF/ }],
  // RFC 9110 §6.5.1: framing fields cannot be trailers (llhttp rejects this one too)
  [
    'a Content-Length trailer',
    C,
    '1\r\nx\r\n0\r\nContent-Length: 1\r\n\r\n',
    { body: /Content-Length in the trailers/ },
  ],
];

for (const [what, framing, wire, expected] of cases) {
  test(`BodyDecoder reads ${what}`, () => {
    const whole = decode(framing, wire, false);
    const split = decode(framing, wire, true);
    if (expected.body instanceof RegExp) {
      assert.match(
        typeof whole === 'string' ? whole : `accepted ${JSON.stringify(whole)}`,
        expected.body,
      );
      assert.equal(split, whole);
      return;
    }
    assert.deepEqual(typeof whole === 'string' ? whole : whole.body, expected.body);
    if (expected.used !== undefined)
      assert.equal(typeof whole !== 'string' && whole.used, expected.used);
    assert.deepEqual(split, whole);
  });
}

test('BodyDecoder hands out chunk data as views of the input, not copies', () => {
  const input = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
  const slices: Uint8Array[] = [];
  new BodyDecoder(C).feed(input, (s) => slices.push(s));
  assert.equal(slices.length, 1);
  assert.equal(slices[0]?.buffer, input.buffer);
  assert.equal(slices[0]?.byteOffset, input.byteOffset + 3);
});

test('BodyDecoder is done once the last byte of a length arrives, before any close', () => {
  const decoder = new BodyDecoder({ kind: 'length', length: 2 });
  decoder.feed(Buffer.from('o'), () => undefined);
  assert.equal(decoder.done, false);
  decoder.feed(Buffer.from('k'), () => undefined);
  assert.equal(decoder.done, true);
});
