import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Framing,
  framingOf,
  HeadParser,
  type HeadStep,
} from '../../src/client/transport/http1-head.js';

type Expected =
  | {
      status: number;
      statusMessage?: string;
      headers?: Record<string, string>;
      framing: Framing;
      /** Where the body starts, when not at the end of the wire. */
      used?: number;
    }
  | RegExp;

const H = 'HTTP/1.1 200 OK\r\n';
const close: Framing = { kind: 'close' };
const none: Framing = { kind: 'none' };
const chunked: Framing = { kind: 'chunked' };
const length = (n: number): Framing => ({ kind: 'length', length: n });

/** [what, wire, expected]: wire is a whole head (and maybe body bytes after it). */
const cases: [string, string, Expected][] = [
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  ['a status line', `${H}\r\n`, { status: 200, statusMessage: 'OK', framing: close }],
  ['HTTP/1.0', 'HTTP/1.0 404 Not Found\r\n\r\n', { status: 404, framing: close }],
  [
    'no reason phrase (as llhttp)',
    'HTTP/1.1 200\r\n\r\n',
    { status: 200, statusMessage: '', framing: close },
  ],
  [
    'an empty reason phrase',
    'HTTP/1.1 200 \r\n\r\n',
    { status: 200, statusMessage: '', framing: close },
  ],
  [
    'any byte but CR and LF in the reason',
    'HTTP/1.1 200  a\0\x7f\xff\r\n\r\n',
    { status: 200, statusMessage: ' a\0\x7f\xff', framing: close },
  ],
  ['a status of three digits below 100', 'HTTP/1.1 099 X\r\n\r\n', { status: 99, framing: close }],
  ['two digits', 'HTTP/1.1 20 OK\r\n\r\n', /status line/],
  ['four digits', 'HTTP/1.1 2000 OK\r\n\r\n', /status line/],
  ['HTAB after the status', 'HTTP/1.1 200\tOK\r\n\r\n', /status line/],
  ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', /status line/],
  ['HTTP/2.0 (not HTTP/1.1 syntax; llhttp takes it)', 'HTTP/2.0 200 OK\r\n\r\n', /status line/],
  ['a lowercase protocol', 'http/1.1 200 OK\r\n\r\n', /status line/],
  ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /status line/],
  // RFC 9112 §2.2: empty lines before the status line are skipped (as llhttp does)
  ['CRLFs before the status line', `\r\n\n${H}\r\n`, { status: 200, framing: close }],
  // RFC 9112 §2.2: lines end in CRLF; a bare LF or CR is an error (llhttp: the same)
  ['a bare LF after the status line', 'HTTP/1.1 200 OK\nX: 1\r\n\r\n', /bare LF/],
  ['a bare LF after a field', `${H}X: 1\n\r\n`, /bare LF/],
  ['a bare LF ending the head', `${H}X: 1\r\n\n`, /bare LF/],
  ['a bare CR in a field', `${H}X: a\rb\r\n\r\n`, /bare CR/],
  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
  [
    'fields, lowercased, OWS trimmed',
    `${H}ETag:  "a" \t\r\nX-Y:1\r\nEmpty:\r\n\r\n`,
    { status: 200, headers: { etag: '"a"', 'x-y': '1', empty: '' }, framing: close },
  ],
  [
    'repeated fields joined (RFC 9110 §5.3)',
    `${H}X: 1\r\nx: 2\r\n\r\n`,
    { status: 200, headers: { x: '1, 2' }, framing: close },
  ],
  [
    'obs-text in a value',
    `${H}X: caf\xe9\r\n\r\n`,
    { status: 200, headers: { x: 'caf\xe9' }, framing: close },
  ],
  [
    'a colon in a value',
    `${H}X:: 1:2\r\n\r\n`,
    { status: 200, headers: { x: ': 1:2' }, framing: close },
  ],
  // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon."
  [
    'a space before the colon',
    `${H}Content-Length : 2\r\n\r\nok`,
    /whitespace between a field name and its colon/,
  ],
  ['a tab before the colon', `${H}X\t: 1\r\n\r\n`, /whitespace between a field name and its colon/],
  ['a name that is not a token (RFC 9110 §5.6.2)', `${H}X{Y: 1\r\n\r\n`, /malformed field line/],
  ['a line without a colon', `${H}NoColon\r\n\r\n`, /malformed field line/],
  ['an empty name', `${H}: 1\r\n\r\n`, /without a name/],
  // RFC 9110 §5.5: field values hold no CTL but HTAB
  ['NUL in a value', `${H}X: a\0b\r\n\r\n`, /control character/],
  ['DEL in a value', `${H}X: a\x7f\r\n\r\n`, /control character/],
  // RFC 9112 §5.2: a user agent replaces obs-fold with SP (llhttp rejects it)
  [
    'an obs-fold',
    `${H}X: a\r\n  b\r\n\tc\r\n\r\n`,
    { status: 200, headers: { x: 'a b c' }, framing: close },
  ],
  // RFC 9112 §2.2: whitespace before the first field is not a fold
  ['whitespace before the first field', `${H} X: 1\r\n\r\n`, /whitespace before the first field/],
  // RFC 9110 §15.2: 1xx responses are read and skipped
  [
    'a 100 before the response',
    `HTTP/1.1 100 Continue\r\n\r\n${H}X: 1\r\n\r\n`,
    { status: 200, headers: { x: '1' }, framing: close },
  ],
  [
    'two 1xx and CRLFs between',
    `HTTP/1.1 103 Early\r\nLink: </a>\r\n\r\n\r\nHTTP/1.1 100 C\r\n\r\n${H}\r\n`,
    { status: 200, headers: {}, framing: close },
  ],
  [
    'a bad Content-Length in a 1xx (llhttp: the same)',
    `HTTP/1.1 100 C\r\nContent-Length: x\r\n\r\n${H}\r\n`,
    /Content-Length/,
  ],
  // RFC 9110 §15.2.2: after a 101 the connection speaks another protocol
  [
    'a 101 as a final response',
    `HTTP/1.1 101 Switching\r\n\r\n${H}\r\n`,
    { status: 101, framing: none, used: 26 },
  ],
];

for (const [what, wire, expected] of cases) {
  test(`HeadParser reads ${what}`, () => {
    const bytes = Buffer.from(wire, 'latin1');
    // Whole, and one byte at a time: the same result.
    const whole = new HeadParser().feed(bytes);
    let step: HeadStep = { kind: 'more' };
    const parser = new HeadParser();
    let at = 0;
    for (; at < bytes.length && step.kind === 'more'; at++)
      step = parser.feed(bytes.subarray(at, at + 1));
    if (expected instanceof RegExp) {
      assert.equal(whole.kind, 'error');
      assert.match((whole as { reason: string }).reason, expected);
      assert.deepEqual(step, whole);
      return;
    }
    assert.equal(whole.kind, 'head', JSON.stringify(whole));
    if (whole.kind !== 'head' || step.kind !== 'head') return;
    assert.equal(whole.head.status, expected.status);
    if (expected.statusMessage !== undefined)
      assert.equal(whole.head.statusMessage, expected.statusMessage);
    if (expected.headers !== undefined) assert.deepEqual(whole.head.headers, expected.headers);
    assert.deepEqual(whole.framing, expected.framing);
    assert.equal(whole.used, expected.used ?? bytes.length);
    assert.deepEqual(step.head, whole.head);
    assert.equal(at, expected.used ?? bytes.length);
  });
}

test('HeadParser reports where the body starts', () => {
  const step = new HeadParser().feed(Buffer.from(`${H}Content-Length: 2\r\n\r\nok`));
  assert.equal(step.kind === 'head' && step.used, H.length + 21);
});

test('HeadParser waits for more bytes inside a head', () => {
  assert.deepEqual(new HeadParser().feed(Buffer.from(`${H}X: 1\r\n`)), { kind: 'more' });
  assert.deepEqual(new HeadParser().feed(Buffer.from('\r\n')), { kind: 'more' });
});

test('HeadParser fails a head beyond maxHeadSize', () => {
  const parser = new HeadParser({ maxHeadSize: 100 });
  assert.deepEqual(parser.feed(Buffer.from(`${H}X: ${'a'.repeat(60)}\r\n`)), { kind: 'more' });
  const step = parser.feed(Buffer.from(`Y: ${'b'.repeat(60)}`));
  assert.match(step.kind === 'error' ? step.reason : '', /larger than 100 bytes/);
});

const framings: [string, number, Record<string, string>, Framing | RegExp][] = [
  // RFC 9112 §6.3 item 1: no body for 1xx, 204, 304, whatever the fields say
  ['a 204', 204, { 'content-length': '2' }, none],
  ['a 304 with a Content-Length beyond 2^53', 304, { 'content-length': '99999999999999999' }, none],
  // item 3: both Transfer-Encoding and Content-Length "ought to be handled as an error"
  ['TE and CL', 200, { 'transfer-encoding': 'chunked', 'content-length': '2' }, /both/],
  [
    'TE and CL in a 204 (llhttp: the same)',
    204,
    { 'transfer-encoding': 'chunked', 'content-length': '2' },
    /both/,
  ],
  // item 4: chunked only as the final coding; else the body ends at the close
  ['chunked', 200, { 'transfer-encoding': 'chunked' }, chunked],
  ['chunked, any case', 200, { 'transfer-encoding': 'Chunked' }, chunked],
  ['gzip, chunked', 200, { 'transfer-encoding': 'gzip, chunked' }, chunked],
  ['gzip\\t,\\tchunked', 200, { 'transfer-encoding': 'gzip\t,\tchunked' }, chunked],
  ['chunked, gzip', 200, { 'transfer-encoding': 'chunked, gzip' }, close],
  ['chunked,', 200, { 'transfer-encoding': 'chunked,' }, close],
  ['xchunked', 200, { 'transfer-encoding': 'xchunked' }, close],
  ['an empty TE', 200, { 'transfer-encoding': '' }, close],
  // items 5 and 6: Content-Length = 1*DIGIT (RFC 9110 §8.6)
  ['a Content-Length', 206, { 'content-length': '1048576' }, length(1048576)],
  ['leading zeros', 200, { 'content-length': '0002' }, length(2)],
  ['zero', 200, { 'content-length': '0' }, length(0)],
  [
    'repeated, equal (joined; llhttp rejects them too)',
    200,
    { 'content-length': '2, 2' },
    /Content-Length is "2, 2"/,
  ],
  ['empty', 200, { 'content-length': '' }, /Content-Length/],
  ['signed', 200, { 'content-length': '+2' }, /Content-Length/],
  ['hex', 200, { 'content-length': '0x2' }, /Content-Length/],
  ['beyond 2^64 - 1', 200, { 'content-length': '18446744073709551616' }, /Content-Length/],
  [
    'beyond 2^53 (no body that long can be read)',
    200,
    { 'content-length': '9007199254740993' },
    /too large/,
  ],
  // item 8: otherwise until the close
  ['no framing fields', 200, {}, close],
];

for (const [what, status, headers, expected] of framings) {
  test(`framingOf() reads ${what}`, () => {
    const framing = framingOf({ status, statusMessage: '', headers });
    if (expected instanceof RegExp) assert.match(framing as string, expected);
    else assert.deepEqual(framing, expected);
  });
}

test('the HTTP/1.1 reader’s pure modules import nothing from node: and touch no clock', () => {
  for (const name of ['http1-fields', 'http1-head', 'http1-body', 'http1-request']) {
    const path = fileURLToPath(
      new URL(`../../../src/client/transport/${name}.ts`, import.meta.url),
    );
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      assert.match(m[1] ?? '', /^\.\/http1-[a-z]+\.js$/, `${name} imports ${m[1]}`);
    }
    assert.doesNotMatch(text, /Date\.now\(|Math\.random\(|process\.|setTimeout/, name);
  }
});
