import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planMultipart } from '../../src/core/multipart.js';

const decode = (parts: ReturnType<typeof planMultipart>['parts'], file: string) =>
  parts
    .map((p) => ('bytes' in p ? new TextDecoder().decode(p.bytes) : file.slice(p.start, p.end + 1)))
    .join('');

test('planMultipart() frames parts byte for byte with an exact length', () => {
  const file = 'abcdefghijklmnopqrstuvwxyz';
  const plan = planMultipart(
    [
      { start: 0, end: 4 },
      { start: 10, end: 14 },
    ],
    { size: 26, type: 'text/plain', boundary: 'XYZ' },
  );
  const body = decode(plan.parts, file);
  assert.equal(
    body,
    '--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/26\r\n\r\nabcde' +
      '\r\n--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-14/26\r\n\r\nklmno' +
      '\r\n--XYZ--\r\n',
  );
  assert.equal(plan.length, Buffer.byteLength(body));
});

test('planMultipart() refuses a boundary outside RFC 2046', () => {
  assert.throws(
    () => planMultipart([{ start: 0, end: 0 }], { size: 1, type: 't', boundary: 'a b\r\n' }),
    RangeError,
  );
  assert.throws(
    () => planMultipart([{ start: 0, end: 0 }], { size: 1, type: 't', boundary: 'x'.repeat(71) }),
    RangeError,
  );
});
