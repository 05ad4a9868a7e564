import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { S3Signer } from '../../src/server/sources/s3-signer.js';

const credentials = {
  accessKeyId: 'RANGEDTESTACCESSKEY0',
  secretAccessKey: 'rangedTestSecretKey0rangedTestSecretKey0',
};
/** 2026-12-07T05:06:07.890Z */
const AT = Date.UTC(2026, 11, 7, 5, 6, 7, 890);

function signer(clock: { now: number }, extra: { sessionToken?: string } = {}): S3Signer {
  return new S3Signer({
    host: '127.0.0.1:7480',
    region: 'us-east-1',
    credentials: { ...credentials, ...extra },
    now: () => clock.now,
  });
}

/** The fields as name → value (the signer gives them as node:http's raw list). */
function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) out[list[i] ?? ''] = list[i + 1] ?? '';
  return out;
}

/** SigV4 written out from AWS's description, independently of aws4. */
function expectedAuthorization(
  method: string,
  path: string,
  signed: Record<string, string>,
  amzDate: string,
): string {
  const day = amzDate.slice(0, 8);
  const names = Object.keys(signed)
    .map((n) => n.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(signed).map(([n, v]) => [n.toLowerCase(), v]));
  const canonical = [
    method,
    path,
    '',
    ...names.map((n) => `${n}:${lower[n]}`),
    '',
    names.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const hmac = (key: string | Buffer, text: string) =>
    createHmac('sha256', key).update(text).digest();
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of ['us-east-1', 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
}

test('S3Signer.sign() gives the SigV4 fields of the request, dated to the second, Range unsigned', () => {
  const sent = fields(
    signer({ now: AT }).sign(
      'GET',
      '/ranged-test/a%20b.bin',
      { 'If-Match': '"abc"' },
      { Range: 'bytes=0-1023' },
    ),
  );
  assert.equal(sent['X-Amz-Date'], '20261207T050607Z');
  assert.equal(sent['X-Amz-Content-Sha256'], 'UNSIGNED-PAYLOAD');
  assert.equal(sent.Host, '127.0.0.1:7480');
  assert.equal(sent['If-Match'], '"abc"');
  assert.equal(sent.Range, 'bytes=0-1023');
  assert.equal(
    sent.Authorization,
    expectedAuthorization(
      'GET',
      '/ranged-test/a%20b.bin',
      {
        Host: '127.0.0.1:7480',
        'If-Match': '"abc"',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'X-Amz-Date': '20261207T050607Z',
      },
      '20261207T050607Z',
    ),
  );
});

test('S3Signer.sign() gives reads that differ only in Range the same signature within a second', () => {
  const clock = { now: AT };
  const s = signer(clock);
  const first = fields(s.sign('GET', '/b/k', { 'If-Match': '"1"' }, { Range: 'bytes=0-9' }));
  clock.now = AT + 100; // still 05:06:07
  const second = fields(s.sign('GET', '/b/k', { 'If-Match': '"1"' }, { Range: 'bytes=10-19' }));
  assert.equal(second.Authorization, first.Authorization);
  assert.equal(second.Range, 'bytes=10-19');
  assert.equal(first.Range, 'bytes=0-9');
});

test('S3Signer.sign() signs anew what differs in a signed part: second, method, path, field', () => {
  const clock = { now: AT };
  const s = signer(clock);
  const base = fields(s.sign('GET', '/b/k', { 'If-Match': '"1"' })).Authorization;
  const others = [
    fields(s.sign('HEAD', '/b/k', { 'If-Match': '"1"' })),
    fields(s.sign('GET', '/b/k2', { 'If-Match': '"1"' })),
    fields(s.sign('GET', '/b/k', { 'If-Match': '"2"' })),
    fields(s.sign('GET', '/b/k', {})),
  ];
  clock.now = AT + 1_000;
  const later = fields(s.sign('GET', '/b/k', { 'If-Match': '"1"' }));
  assert.equal(later['X-Amz-Date'], '20261207T050608Z');
  for (const other of [...others, later]) assert.notEqual(other.Authorization, base);
  assert.equal(
    later.Authorization,
    expectedAuthorization(
      'GET',
      '/b/k',
      {
        Host: '127.0.0.1:7480',
        'If-Match': '"1"',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'X-Amz-Date': '20261207T050608Z',
      },
      '20261207T050608Z',
    ),
  );
});

test('S3Signer.sign() gives a new list for every call (changing one does not change the next)', () => {
  const s = signer({ now: AT });
  const first = s.sign('GET', '/b/k', {});
  first.push('X-Extra', '1');
  assert.equal(fields(s.sign('GET', '/b/k', {}))['X-Extra'], undefined);
});

test('S3Signer.sign() sends temporary credentials their session token', () => {
  const sent = fields(signer({ now: AT }, { sessionToken: 'TOKEN' }).sign('GET', '/b/k', {}));
  assert.equal(sent['X-Amz-Security-Token'], 'TOKEN');
  assert.match(sent.Authorization ?? '', /SignedHeaders=[^,]*x-amz-security-token/);
});
