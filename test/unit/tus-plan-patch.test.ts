import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  finishTusBody,
  planTusRequest,
  type TusPlanOptions,
  type TusUploadState,
} from '../../src/core/upload/tus-plan.js';

// PATCH (tus 1.0.0 §PATCH, §Checksum, §Creation defer-length) and the answer after the body.
const V = { 'tus-resumable': '1.0.0' };
const PATCH_CT = { 'content-type': 'application/offset+octet-stream' };
const OPTS: TusPlanOptions = { token: 'ok', maxSize: 1000 };
const active: TusUploadState = { status: 'active', offset: 10, length: 100 };
const EXPIRES = Date.UTC(2026, 11, 7, 12, 0, 0);

interface PatchRow {
  name: string;
  headers: Record<string, string>;
  state?: TusUploadState;
  options?: Partial<TusPlanOptions>;
  status: number;
  has?: Record<string, string>;
  /** The append the shell is told to do: [offset, limit]. */
  append?: [number, number];
  declareLength?: number;
}

const at = (offset: string, more: Record<string, string> = {}) => ({
  ...V,
  ...PATCH_CT,
  'upload-offset': offset,
  ...more,
});

const patches: PatchRow[] = [
  // tus 1.0.0 §PATCH: 204 with the new Upload-Offset (added after the body); §Expiration:
  // Upload-Expires "MUST be included in every PATCH response if the upload is going to expire".
  {
    name: 'lets a PATCH at the offset append up to the length',
    headers: at('10', { 'content-length': '5' }),
    state: active,
    options: { expires: EXPIRES },
    status: 204,
    has: { 'Upload-Expires': 'Mon, 07 Dec 2026 12:00:00 GMT' },
    append: [10, 90],
  },
  {
    name: 'accepts a Content-Type with parameters and another case',
    headers: at('10', { 'content-type': 'Application/Offset+Octet-Stream; x=1' }),
    state: active,
    status: 204,
    append: [10, 90],
  },
  // tus 1.0.0 §PATCH: "otherwise the server SHOULD return a 415 Unsupported Media Type status".
  {
    name: 'answers another Content-Type with 415',
    headers: at('10', { 'content-type': 'application/octet-stream' }),
    state: active,
    status: 415,
  },
  {
    name: 'answers a missing Content-Type with 415',
    headers: { ...V, 'upload-offset': '10' },
    state: active,
    status: 415,
  },
  // tus 1.0.0 §PATCH: "If the offsets do not match, the Server MUST respond with the 409 Conflict
  // status without modifying the upload resource." Issue 12: with the current offset.
  {
    name: 'answers an offset mismatch with 409 and the current offset',
    headers: at('5'),
    state: active,
    status: 409,
    has: { 'Upload-Offset': '10' },
  },
  {
    name: 'answers a huge offset with 409 (it clamps, house rule 5)',
    headers: at('99999999999999999999999'),
    state: active,
    status: 409,
    has: { 'Upload-Offset': '10' },
  },
  {
    name: 'answers a missing Upload-Offset with 400',
    headers: { ...V, ...PATCH_CT },
    state: active,
    status: 400,
  },
  {
    name: 'answers a negative Upload-Offset with 400',
    headers: at('-1'),
    state: active,
    status: 400,
  },
  // Issue 12: 413 above the size.
  {
    name: 'answers a body past the upload length with 413',
    headers: at('10', { 'content-length': '91' }),
    state: active,
    status: 413,
    has: { 'Upload-Offset': '10' },
  },
  {
    name: 'limits a deferred-length upload to Tus-Max-Size',
    headers: at('10', { 'transfer-encoding': 'chunked' }),
    state: { ...active, length: undefined },
    status: 204,
    append: [10, 990],
  },
  // tus 1.0.0 §Creation, Upload-Defer-Length: "the Client MUST set the Upload-Length header in the
  // next PATCH request. Once set the length MUST NOT be changed."
  {
    name: 'takes a deferred Upload-Length once known',
    headers: at('10', { 'upload-length': '50' }),
    state: { ...active, length: undefined },
    status: 204,
    append: [10, 40],
    declareLength: 50,
  },
  {
    name: 'answers a deferred Upload-Length above Tus-Max-Size with 413',
    headers: at('10', { 'upload-length': '1001' }),
    state: { ...active, length: undefined },
    status: 413,
  },
  {
    name: 'answers a changed Upload-Length with 400',
    headers: at('10', { 'upload-length': '101' }),
    state: active,
    status: 400,
  },
  {
    name: 'accepts the same Upload-Length again',
    headers: at('10', { 'upload-length': '100' }),
    state: active,
    status: 204,
    append: [10, 90],
  },
  // tus 1.0.0 §Concatenation: "403 Forbidden status to PATCH requests against a final upload".
  {
    name: 'answers a PATCH of a final upload with 403',
    headers: at('0'),
    state: {
      status: 'active',
      offset: 0,
      length: undefined,
      concat: { kind: 'final', urls: ['/a'] },
    },
    status: 403,
  },
  // tus 1.0.0 §Checksum: 400 for an unsupported algorithm.
  {
    name: 'answers an unsupported checksum algorithm with 400',
    headers: at('10', { 'upload-checksum': 'crc32 AAAAAA==' }),
    state: active,
    status: 400,
  },
  {
    name: 'answers a malformed Upload-Checksum with 400',
    headers: at('10', { 'upload-checksum': 'sha1 xyz' }),
    state: active,
    status: 400,
  },
  {
    name: 'lets a complete upload take an empty PATCH at its end',
    headers: at('100', { 'content-length': '0' }),
    state: { status: 'complete', offset: 100, length: 100 },
    status: 204,
    append: [100, 0],
  },
];

for (const row of patches) {
  test(`planTusRequest() PATCH ${row.name}`, () => {
    const plan = planTusRequest('PATCH', row.headers, row.state, { ...OPTS, ...row.options });
    assert.equal(plan.status, row.status, plan.reason);
    for (const [k, v] of Object.entries(row.has ?? {})) assert.equal(plan.headers[k], v, k);
    if (row.append === undefined) {
      assert.equal(plan.action.kind, 'none');
      return;
    }
    assert.equal(plan.action.kind, 'append');
    if (plan.action.kind !== 'append') return;
    assert.deepEqual([plan.action.append.offset, plan.action.append.limit], row.append);
    assert.equal(plan.action.declareLength, row.declareLength);
  });
}

test('planTusRequest() PATCH hands the checksum to the shell', () => {
  const headers = at('10', { 'upload-checksum': 'sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=' });
  const plan = planTusRequest('PATCH', headers, active, OPTS);
  assert.equal(plan.action.kind, 'append');
  if (plan.action.kind !== 'append') return;
  assert.equal(plan.action.append.checksum?.algorithm, 'sha1');
  assert.equal(plan.action.append.checksum?.digest.length, 20);
});

test('planTusRequest() PATCH ignores Upload-Checksum when the checksum extension is off', () => {
  const headers = at('10', { 'upload-checksum': 'crc32 AAAAAA==' });
  const plan = planTusRequest('PATCH', headers, active, { ...OPTS, extensions: ['creation'] });
  assert.equal(plan.status, 204);
});

// tus 1.0.0 §Checksum: 460 "if the checksums mismatch"; the offset stays where it was.
const finishes: [string, number, Parameters<typeof finishTusBody>[1], number, string][] = [
  ['gives 204 and the new offset after a PATCH', 204, { kind: 'stored', offset: 60 }, 204, '60'],
  [
    'gives 460 and the old offset on a checksum mismatch',
    204,
    { kind: 'checksum-mismatch', offset: 10 },
    460,
    '10',
  ],
  [
    'gives 413 and the stored offset past the limit',
    204,
    { kind: 'too-large', offset: 100 },
    413,
    '100',
  ],
  ['keeps 201 after a creation with upload', 201, { kind: 'stored', offset: 5 }, 201, '5'],
  [
    'keeps 201 with offset 0 on a creation checksum mismatch',
    201,
    { kind: 'checksum-mismatch', offset: 0 },
    201,
    '0',
  ],
];
for (const [name, planned, outcome, status, offset] of finishes) {
  test(`finishTusBody() ${name}`, () => {
    const plan = {
      status: planned,
      headers: { 'Tus-Resumable': '1.0.0' },
      action: { kind: 'none' as const },
    };
    const done = finishTusBody(plan, outcome);
    assert.equal(done.status, status);
    assert.equal(done.headers['Upload-Offset'], offset);
    assert.equal(done.headers['Tus-Resumable'], '1.0.0');
  });
}
