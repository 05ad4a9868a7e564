import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FileFacts,
  planResponse,
  type RequestFacts,
  type ResponsePlan,
} from '../../src/core/respond.js';
import { formatHttpDate } from '../../src/core/validators.js';

const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const file: FileFacts = { size: 1040, mtimeMs: MTIME, ino: 7, type: 'text/plain; charset=utf-8' };
const TEXT = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
const options = { boundary: 'BOUNDARY' };

function get(
  headers: RequestFacts['headers'] = {},
  method = 'GET',
  f: FileFacts = file,
): ResponsePlan {
  return planResponse({ method, headers }, f, options);
}
/** The body the plan describes, as text, with file slices taken from TEXT. */
function body(plan: ResponsePlan): string {
  return plan.body
    .map((p) => ('bytes' in p ? new TextDecoder().decode(p.bytes) : TEXT.slice(p.start, p.end + 1)))
    .join('');
}
const etag = get().headers.ETag ?? '';

test('planResponse() answers a plain GET with 200, validators and Accept-Ranges', () => {
  const plan = get();
  assert.equal(plan.status, 200);
  assert.equal(plan.headers['Accept-Ranges'], 'bytes');
  assert.match(etag, /^"[^"]+"$/);
  assert.equal(plan.headers['Last-Modified'], 'Tue, 02 Jan 2024 03:04:05 GMT');
  assert.equal(plan.headers['Content-Length'], '1040');
  assert.equal(body(plan), TEXT);
});

test('planResponse() answers one range with 206, Content-Range and exact bytes', () => {
  const plan = get({ range: 'bytes=2-5' });
  assert.equal(plan.status, 206);
  assert.equal(plan.headers['Content-Range'], 'bytes 2-5/1040');
  assert.equal(plan.headers['Content-Length'], '4');
  assert.equal(body(plan), 'cdef');
});

test('planResponse() answers a suffix range with the end of the file', () => {
  const plan = get({ range: 'bytes=-3' });
  assert.equal(plan.headers['Content-Range'], 'bytes 1037-1039/1040');
  assert.equal(body(plan), 'xyz');
});

test('planResponse() answers two ranges with multipart/byteranges of exact length', () => {
  const plan = get({ range: 'bytes=0-1,20-21' });
  assert.equal(plan.status, 206);
  assert.equal(plan.headers['Content-Type'], 'multipart/byteranges; boundary=BOUNDARY');
  const text = body(plan);
  assert.equal(Number(plan.headers['Content-Length']), Buffer.byteLength(text));
  assert.ok(text.includes('Content-Range: bytes 0-1/1040\r\n\r\nab\r\n'));
  assert.ok(text.includes('Content-Range: bytes 20-21/1040\r\n\r\nuv\r\n--BOUNDARY--\r\n'));
});

test('planResponse() falls back to 200 when multipart would outweigh the file', () => {
  const small = { ...file, size: 26 };
  const plan = get({ range: 'bytes=0-0,2-2,4-4' }, 'GET', small); // 3 parts of framing > 26 bytes
  assert.equal(plan.status, 200);
  assert.equal(plan.body.length, 1);
  assert.deepEqual(plan.body[0], { start: 0, end: 25 });
});

test('planResponse() never plans more than the file plus framing, whatever the range set', () => {
  const big: FileFacts = { ...file, size: 1_000_000 };
  const abusive = [
    `bytes=${Array(1000).fill('0-0').join(',')}`,
    `bytes=${Array.from({ length: 100 }, (_, i) => `${i * 1000}-${i * 1000 + 500}`).join(',')}`,
    `bytes=0-,${Array.from({ length: 99 }, (_, i) => `${i}-${i + 1}`).join(',')}`,
    `bytes=${Array.from({ length: 100 }, (_, i) => `-${i + 1}`).join(',')}`,
  ];
  for (const range of abusive) {
    const plan = get({ range }, 'GET', big);
    const length = Number(plan.headers['Content-Length']);
    assert.ok(length <= big.size, `${range.slice(0, 40)}…: ${length}`);
  }
});

test('planResponse() answers an unsatisfiable range with 416 and bytes */size', () => {
  for (const range of ['bytes=1040-', 'bytes=-0', 'bytes=2000-3000']) {
    const plan = get({ range });
    assert.equal(plan.status, 416, range);
    assert.equal(plan.headers['Content-Range'], 'bytes */1040');
  }
});

test('planResponse() ignores invalid Range headers and other units with 200', () => {
  for (const range of ['bytes=5-2', 'items=0-5', 'bytes=abc', 'bytes=0-4,x']) {
    const plan = get({ range });
    assert.equal(plan.status, 200, range);
    assert.equal(body(plan), TEXT);
  }
});

test('planResponse() answers a range on an empty file with 200 and no body', () => {
  const plan = get({ range: 'bytes=0-0' }, 'GET', { ...file, size: 0 });
  assert.equal(plan.status, 200);
  assert.equal(plan.headers['Content-Length'], '0');
  assert.deepEqual(plan.body, []);
});

test('planResponse() honours If-Range only for an exact strong tag or date', () => {
  const lm = formatHttpDate(MTIME);
  assert.equal(get({ range: 'bytes=0-0', ifRange: etag }).status, 206);
  assert.equal(get({ range: 'bytes=0-0', ifRange: lm }).status, 206);
  assert.equal(get({ range: 'bytes=0-0', ifRange: `W/${etag}` }).status, 200);
  assert.equal(get({ range: 'bytes=0-0', ifRange: '"other"' }).status, 200);
  assert.equal(get({ range: 'bytes=0-0', ifRange: formatHttpDate(MTIME + 10_000) }).status, 200);
  assert.equal(get({ range: 'bytes=0-0', ifRange: formatHttpDate(MTIME - 10_000) }).status, 200);
});

test('planResponse() evaluates 304 and 412 before Range', () => {
  const notModified = get({ range: 'bytes=0-0', ifNoneMatch: etag });
  assert.equal(notModified.status, 304);
  assert.deepEqual(notModified.body, []);
  assert.equal(notModified.headers['Content-Length'], undefined);
  assert.equal(notModified.headers.ETag, etag);
  assert.equal(get({ range: 'bytes=0-0', ifMatch: '"nope"' }).status, 412);
  assert.equal(
    get({ range: 'bytes=0-0', ifUnmodifiedSince: formatHttpDate(MTIME - 5000) }).status,
    412,
  );
});

test('planResponse() gives HEAD the headers of GET and ignores Range on HEAD (RFC 9110 §14.2)', () => {
  const head = get({}, 'HEAD');
  assert.deepEqual(head.headers, get().headers);
  assert.equal(get({ range: 'bytes=0-0' }, 'HEAD').status, 200);
});

test('planResponse() answers other methods with 405 and Allow', () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const plan = get({}, method);
    assert.equal(plan.status, 405);
    assert.equal(plan.headers.Allow, 'GET, HEAD');
  }
});
