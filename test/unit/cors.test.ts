import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type CorsDecision,
  type CorsPolicy,
  type CorsRequest,
  parseCorsPolicy,
  planCors,
} from '../../src/core/cors.js';

const ANY: CorsPolicy = { kind: 'any' };
const ONE: CorsPolicy = { kind: 'origin', origin: 'https://app.example' };
const EXPOSE = 'Content-Range, Accept-Ranges, ETag, Content-Length, Last-Modified';
const ALLOW_HEADERS =
  'Range, If-Range, If-None-Match, If-Match, If-Modified-Since, If-Unmodified-Since';
const PREFLIGHT = {
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': ALLOW_HEADERS,
  'Access-Control-Max-Age': '7200',
};

const cases: [string, CorsRequest, CorsPolicy, CorsDecision][] = [
  // Fetch §3.2.3: `*` lets any origin read the response (no credentials).
  [
    'any origin: a GET gets * and the exposed fields',
    { method: 'GET', origin: 'http://a.example' },
    ANY,
    {
      kind: 'actual',
      headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSE },
    },
  ],
  [
    'any origin: a same-origin GET (no Origin) gets the same fields',
    { method: 'GET' },
    ANY,
    {
      kind: 'actual',
      headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSE },
    },
  ],
  // Fetch §3.2.2: OPTIONS + Origin + Access-Control-Request-Method is a CORS-preflight request.
  [
    'any origin: a preflight is answered with methods, headers and max-age',
    { method: 'OPTIONS', origin: 'http://a.example', requestMethod: 'GET' },
    ANY,
    { kind: 'preflight', headers: { 'Access-Control-Allow-Origin': '*', ...PREFLIGHT } },
  ],
  [
    'any origin: OPTIONS without Access-Control-Request-Method is no preflight',
    { method: 'OPTIONS', origin: 'http://a.example' },
    ANY,
    {
      kind: 'actual',
      headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSE },
    },
  ],
  [
    'any origin: OPTIONS with Access-Control-Request-Method but no Origin is no preflight',
    { method: 'OPTIONS', requestMethod: 'GET' },
    ANY,
    {
      kind: 'actual',
      headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSE },
    },
  ],
  // One origin: echoed only when Origin is exactly it, and the answer varies by Origin.
  [
    'one origin: the matching Origin is echoed, with Vary: Origin',
    { method: 'GET', origin: 'https://app.example' },
    ONE,
    {
      kind: 'actual',
      headers: {
        Vary: 'Origin',
        'Access-Control-Allow-Origin': 'https://app.example',
        'Access-Control-Expose-Headers': EXPOSE,
      },
    },
  ],
  [
    'one origin: another Origin gets no Access-Control field, only Vary',
    { method: 'GET', origin: 'https://evil.example' },
    ONE,
    { kind: 'actual', headers: { Vary: 'Origin' } },
  ],
  [
    'one origin: another port is another origin',
    { method: 'GET', origin: 'https://app.example:8443' },
    ONE,
    { kind: 'actual', headers: { Vary: 'Origin' } },
  ],
  [
    'one origin: the opaque origin "null" is not allowed',
    { method: 'GET', origin: 'null' },
    ONE,
    { kind: 'actual', headers: { Vary: 'Origin' } },
  ],
  [
    'one origin: a preflight from it is answered',
    { method: 'OPTIONS', origin: 'https://app.example', requestMethod: 'GET' },
    ONE,
    {
      kind: 'preflight',
      headers: {
        Vary: 'Origin',
        'Access-Control-Allow-Origin': 'https://app.example',
        ...PREFLIGHT,
      },
    },
  ],
  [
    'one origin: a preflight from another origin is left to the usual OPTIONS answer',
    { method: 'OPTIONS', origin: 'https://evil.example', requestMethod: 'GET' },
    ONE,
    { kind: 'actual', headers: { Vary: 'Origin' } },
  ],
];
for (const [name, req, policy, expected] of cases) {
  test(`planCors() ${name}`, () => {
    assert.deepEqual(planCors(req, policy), expected);
  });
}

test('planCors() allows every field a range or conditional request needs (multi-range Range is not safelisted)', () => {
  for (const field of ['Range', 'If-Range', 'If-None-Match', 'If-Match']) {
    assert.ok((CORS_ALLOWED_HEADERS as readonly string[]).includes(field), field);
  }
  for (const field of ['Content-Range', 'Accept-Ranges', 'ETag']) {
    assert.ok((CORS_EXPOSED_HEADERS as readonly string[]).includes(field), field);
  }
});

test('planCors() with uploads allows their methods and fields and exposes Location and Upload-Offset', () => {
  const pre = planCors(
    { method: 'OPTIONS', origin: 'https://a.example', requestMethod: 'PATCH' },
    ANY,
    {
      uploads: true,
    },
  );
  assert.equal(pre.kind, 'preflight');
  assert.match(pre.headers['Access-Control-Allow-Methods'] ?? '', /\bPATCH\b.*\bDELETE\b/);
  for (const field of ['Authorization', 'Tus-Resumable', 'Upload-Offset', 'Upload-Complete']) {
    assert.match(pre.headers['Access-Control-Allow-Headers'] ?? '', new RegExp(`\\b${field}\\b`));
  }
  const actual = planCors({ method: 'POST', origin: 'https://a.example' }, ANY, { uploads: true });
  for (const field of ['Location', 'Upload-Offset', 'Tus-Resumable', 'Upload-Limit']) {
    assert.match(
      actual.headers['Access-Control-Expose-Headers'] ?? '',
      new RegExp(`\\b${field}\\b`),
    );
  }
  // Without uploads, no upload method is announced.
  const plain = planCors(
    { method: 'OPTIONS', origin: 'https://a.example', requestMethod: 'GET' },
    ANY,
  );
  assert.doesNotMatch(plain.headers['Access-Control-Allow-Methods'] ?? '', /PATCH|PUT|POST|DELETE/);
});

const policies: [string | undefined, CorsPolicy | undefined][] = [
  [undefined, ANY],
  ['*', ANY],
  ['https://app.example', ONE],
  ['https://app.example/', ONE],
  ['HTTPS://APP.EXAMPLE', ONE],
  ['https://app.example:443', ONE], // the default port is not part of the serialized origin
  ['http://127.0.0.1:8080', { kind: 'origin', origin: 'http://127.0.0.1:8080' }],
  ['http://[::1]:3000', { kind: 'origin', origin: 'http://[::1]:3000' }],
  ['https://app.example/page', undefined],
  ['https://app.example/?x', undefined],
  ['https://app.example/#x', undefined],
  ['https://user@app.example', undefined],
  ['ftp://app.example', undefined],
  ['app.example', undefined],
  ['', undefined],
];
for (const [text, expected] of policies) {
  test(`parseCorsPolicy() reads ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseCorsPolicy(text), expected);
  });
}
