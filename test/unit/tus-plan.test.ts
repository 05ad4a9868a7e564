import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  planTusRequest,
  type TusPlanOptions,
  type TusUploadState,
} from '../../src/core/upload/tus-plan.js';

const V = { 'tus-resumable': '1.0.0' };
const PATCH_CT = { 'content-type': 'application/offset+octet-stream' };
const OPTS: TusPlanOptions = { token: 'ok', maxSize: 1000, location: '/.uploads/abc' };
const active: TusUploadState = { status: 'active', offset: 10, length: 100 };
const EXPIRES = Date.UTC(2026, 11, 7, 12, 0, 0);

interface Row {
  name: string;
  method: string;
  headers: Record<string, string>;
  state?: TusUploadState;
  options?: Partial<TusPlanOptions>;
  status: number;
  /** Headers the response has (exact values). */
  has?: Record<string, string>;
  /** Headers the response must not have. */
  lacks?: string[];
  action?: string;
}

const rows: Row[] = [
  // tus 1.0.0 §OPTIONS: "A successful response indicated by the 204 No Content or 200 OK status
  // MUST contain the Tus-Version header. It MAY include the Tus-Extension and Tus-Max-Size
  // headers." Issue 12: no token needed.
  {
    name: 'answers OPTIONS with the configuration, without a token or Tus-Resumable',
    method: 'OPTIONS',
    headers: {},
    options: { token: 'missing' },
    status: 204,
    has: {
      'Tus-Version': '1.0.0',
      'Tus-Max-Size': '1000',
      'Tus-Extension':
        'creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,concatenation',
      'Tus-Checksum-Algorithm': 'md5,sha1,sha256',
    },
  },
  {
    name: 'leaves Tus-Max-Size and Tus-Checksum-Algorithm out of OPTIONS when not set',
    method: 'OPTIONS',
    headers: {},
    options: { maxSize: undefined, extensions: ['creation'] },
    status: 204,
    has: { 'Tus-Extension': 'creation' },
    lacks: ['Tus-Max-Size', 'Tus-Checksum-Algorithm'],
  },
  // tus 1.0.0 §Tus-Resumable: 412 Precondition Failed with Tus-Version.
  {
    name: 'answers another Tus-Resumable with 412 and Tus-Version',
    method: 'PATCH',
    headers: { 'tus-resumable': '0.2.2', ...PATCH_CT, 'upload-offset': '10' },
    state: active,
    status: 412,
    has: { 'Tus-Version': '1.0.0' },
    action: 'none',
  },
  {
    name: 'answers a request without Tus-Resumable with 412',
    method: 'HEAD',
    headers: {},
    state: active,
    status: 412,
    has: { 'Tus-Version': '1.0.0' },
  },
  // Issue 12: 401 with WWW-Authenticate: Bearer, and nothing stored.
  {
    name: 'answers a missing token with 401 and WWW-Authenticate',
    method: 'PATCH',
    headers: { ...V, ...PATCH_CT, 'upload-offset': '10' },
    state: active,
    options: { token: 'missing' },
    status: 401,
    has: { 'WWW-Authenticate': 'Bearer' },
    action: 'none',
  },
  {
    name: 'answers a wrong token on DELETE with 401',
    method: 'DELETE',
    headers: V,
    state: active,
    options: { token: 'wrong' },
    status: 401,
    action: 'none',
  },
  {
    name: 'answers an unknown method with 405 and Allow',
    method: 'PUT',
    headers: V,
    state: active,
    status: 405,
    has: { Allow: 'OPTIONS, POST, HEAD, PATCH, DELETE' },
  },
  // tus 1.0.0 §X-HTTP-Method-Override.
  {
    name: 'takes the method from X-HTTP-Method-Override',
    method: 'POST',
    headers: { ...V, 'x-http-method-override': 'DELETE' },
    state: active,
    status: 204,
    action: 'terminate',
  },
  // tus 1.0.0 §HEAD.
  {
    name: 'answers HEAD with the offset, the length and Cache-Control: no-store',
    method: 'HEAD',
    headers: V,
    state: { ...active, metadata: 'filename d29ybGQ=', expires: EXPIRES },
    status: 200,
    has: {
      'Cache-Control': 'no-store',
      'Upload-Offset': '10',
      'Upload-Length': '100',
      'Upload-Metadata': 'filename d29ybGQ=',
      'Upload-Expires': 'Mon, 07 Dec 2026 12:00:00 GMT',
      'Tus-Resumable': '1.0.0',
    },
    lacks: ['Upload-Defer-Length', 'Upload-Concat'],
  },
  {
    name: 'answers HEAD of a deferred-length upload with Upload-Defer-Length: 1',
    method: 'HEAD',
    headers: V,
    state: { status: 'active', offset: 0, length: undefined },
    status: 200,
    has: { 'Upload-Offset': '0', 'Upload-Defer-Length': '1' },
    lacks: ['Upload-Length', 'Upload-Metadata'],
  },
  {
    name: 'answers HEAD of a complete upload with offset = length (issue 12)',
    method: 'HEAD',
    headers: V,
    state: { status: 'complete', offset: 100, length: 100 },
    status: 200,
    has: { 'Upload-Offset': '100', 'Upload-Length': '100' },
  },
  {
    name: 'answers HEAD of a partial upload with Upload-Concat: partial',
    method: 'HEAD',
    headers: V,
    state: { ...active, concat: { kind: 'partial' } },
    status: 200,
    has: { 'Upload-Concat': 'partial', 'Upload-Offset': '10' },
  },
  // tus 1.0.0 §Concatenation: no Upload-Offset for an unfinished final upload.
  {
    name: 'answers HEAD of an unfinished final upload without Upload-Offset',
    method: 'HEAD',
    headers: V,
    state: {
      status: 'active',
      offset: 0,
      length: undefined,
      concat: { kind: 'final', urls: ['/.uploads/a', '/.uploads/b'] },
    },
    status: 200,
    has: { 'Upload-Concat': 'final;/.uploads/a /.uploads/b' },
    lacks: ['Upload-Offset', 'Upload-Defer-Length'],
  },
  // tus 1.0.0 §HEAD: 404, 410 or 403 "without the Upload-Offset header".
  {
    name: 'answers HEAD of an unknown upload with 404 and no Upload-Offset',
    method: 'HEAD',
    headers: V,
    status: 404,
    has: { 'Cache-Control': 'no-store' },
    lacks: ['Upload-Offset'],
  },
  {
    name: 'answers HEAD of an expired upload with 410',
    method: 'HEAD',
    headers: V,
    state: { ...active, status: 'expired' },
    status: 410,
    lacks: ['Upload-Offset'],
  },
  {
    name: 'answers PATCH of a terminated upload with 410',
    method: 'PATCH',
    headers: { ...V, ...PATCH_CT, 'upload-offset': '10' },
    state: { ...active, status: 'terminated' },
    status: 410,
    action: 'none',
  },
  {
    name: 'answers DELETE of an unknown upload with 404',
    method: 'DELETE',
    headers: V,
    status: 404,
    action: 'none',
  },
  // tus 1.0.0 §Termination: 204 No Content.
  {
    name: 'answers DELETE with 204 and terminates',
    method: 'DELETE',
    headers: V,
    state: active,
    status: 204,
    action: 'terminate',
  },
  {
    name: 'answers DELETE with 405 when termination is off',
    method: 'DELETE',
    headers: V,
    state: active,
    options: { extensions: ['creation'] },
    status: 405,
    action: 'none',
  },
];

for (const row of rows) {
  test(`planTusRequest() ${row.name}`, () => {
    const plan = planTusRequest(row.method, row.headers, row.state, { ...OPTS, ...row.options });
    assert.equal(plan.status, row.status, plan.reason);
    for (const [k, v] of Object.entries(row.has ?? {})) assert.equal(plan.headers[k], v, k);
    for (const k of row.lacks ?? []) assert.equal(plan.headers[k], undefined, k);
    assert.equal(plan.headers['Tus-Resumable'], '1.0.0');
    if (row.action !== undefined) assert.equal(plan.action.kind, row.action);
  });
}
