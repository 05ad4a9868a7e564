import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type IetfAction,
  type IetfPlanOptions,
  type IetfRequest,
  type IetfRequestFields,
  type IetfResponseFields,
  type IetfUploadState,
  PARTIAL_UPLOAD,
  planIetfRequest,
} from '../../src/core/upload/ietf-plan.js';

const OPTS: IetfPlanOptions = {
  token: 'ok',
  maxSize: 1000,
  location: '/.uploads/abc',
  maxAge: 3600,
};
const V9: IetfRequestFields = { interopVersion: 9 };
const V6: IetfRequestFields = { interopVersion: 6 };
const PATCH9: IetfRequestFields = { ...V9, contentType: PARTIAL_UPLOAD };
const PATCH6: IetfRequestFields = { ...V6, contentType: PARTIAL_UPLOAD };
const active: IetfUploadState = { status: 'active', offset: 10, length: 100 };
const done: IetfUploadState = { status: 'complete', offset: 100, length: 100 };
const LIMIT9 = { 'max-size': 1000, 'max-age': 3600 };
const LIMIT6 = { 'max-size': 1000, expires: 3600 };
const MISMATCH = 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset';
const INCONSISTENT = 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length';
const COMPLETED = 'https://iana.org/assignments/http-problem-types#completed-upload';

const res = (method: string, fields: IetfRequestFields, targetTaken?: boolean): IetfRequest => ({
  method,
  target: 'resource',
  fields,
  ...(targetTaken !== undefined ? { targetTaken } : {}),
});
const up = (method: string, fields: IetfRequestFields): IetfRequest => ({
  method,
  target: 'upload',
  fields,
});

interface Row {
  name: string;
  request: IetfRequest;
  state?: IetfUploadState;
  options?: Partial<IetfPlanOptions>;
  status: number;
  /** Headers the response has (exact values). */
  has?: Record<string, string>;
  /** The response's structured fields, exactly. */
  fields?: IetfResponseFields;
  action?: IetfAction;
  /** The 104's fields; `null`: no 104. */
  interim?: IetfResponseFields | null;
  problem?: string;
}

const rows: Row[] = [
  // Draft-12 §Limits: OPTIONS carries Upload-Limit; no limits → min-size=0. Issue 12: no token.
  {
    name: 'answers OPTIONS with Upload-Limit and Accept-Patch, without a token',
    request: res('OPTIONS', {}),
    options: { token: 'missing' },
    status: 204,
    has: { 'Accept-Patch': PARTIAL_UPLOAD, Allow: 'OPTIONS, PUT, POST' },
    fields: { limit: LIMIT9 },
  },
  {
    name: 'announces min-size=0 on OPTIONS when no limit applies',
    request: res('OPTIONS', {}),
    options: { maxSize: undefined, maxAge: undefined },
    status: 204,
    fields: { limit: { 'min-size': 0 } },
  },
  {
    name: 'names the lifetime expires on OPTIONS at interop 6',
    request: up('OPTIONS', V6),
    status: 204,
    has: { Allow: 'OPTIONS, HEAD, GET, PATCH, DELETE' },
    fields: { limit: LIMIT6 },
  },
  // Issue 12: 401 with WWW-Authenticate: Bearer, nothing stored.
  {
    name: 'answers a creation without a token with 401 and no 104',
    request: res('POST', { ...V6, complete: false }),
    options: { token: 'missing' },
    status: 401,
    has: { 'WWW-Authenticate': 'Bearer' },
    action: { kind: 'none' },
    interim: null,
  },
  {
    name: 'answers a PATCH with a wrong token with 401',
    request: up('PATCH', { ...PATCH9, offset: 10, complete: false }),
    state: active,
    options: { token: 'wrong' },
    status: 401,
    has: { 'WWW-Authenticate': 'Bearer' },
    action: { kind: 'none' },
  },
  {
    name: 'answers a plain PUT without a token with 401',
    request: res('PUT', { contentLength: 5 }),
    options: { token: 'missing' },
    status: 401,
    action: { kind: 'none' },
  },
  // Creation, interop 9 and 6.
  {
    name: 'creates an incomplete upload with 104, 201, Location and Upload-Limit (interop 9)',
    request: res('POST', { ...V9, complete: false, length: 100, contentLength: 25 }),
    status: 201,
    has: { Location: '/.uploads/abc' },
    fields: { limit: LIMIT9 },
    interim: { interopVersion: 9, limit: LIMIT9 },
    action: {
      kind: 'create',
      complete: false,
      length: 100,
      append: { offset: 0, limit: 100, limitedBy: 'length' },
    },
  },
  {
    name: 'creates an upload without a known length, limited by the maximum size',
    request: res('PUT', { ...V9, complete: false, contentLength: 'unknown' }),
    status: 201,
    action: {
      kind: 'create',
      complete: false,
      append: { offset: 0, limit: 1000, limitedBy: 'max-size' },
    },
  },
  {
    name: 'creates a complete upload whose length is its Content-Length',
    request: res('PUT', { ...V9, complete: true, contentLength: 40 }),
    status: 201,
    has: { Location: '/.uploads/abc' },
    action: {
      kind: 'create',
      complete: true,
      length: 40,
      append: { offset: 0, limit: 40, limitedBy: 'length' },
    },
  },
  {
    name: 'creates as tus-js-client ietf-draft-05 does: POST, Upload-Complete: ?0, no body (interop 6)',
    request: res('POST', { ...V6, complete: false, length: 100 }),
    status: 201,
    has: { Location: '/.uploads/abc' },
    fields: { limit: LIMIT6 },
    interim: { interopVersion: 6, limit: LIMIT6 },
  },
  {
    name: 'answers a creation above the maximum size with 413 and Upload-Limit',
    request: res('POST', { ...V9, complete: false, length: 5000 }),
    status: 413,
    fields: { limit: LIMIT9 },
    action: { kind: 'none' },
    interim: null,
  },
  {
    name: 'answers a complete creation whose body exceeds the maximum size with 413 (interop 6)',
    request: res('PUT', { ...V6, complete: true, contentLength: 1001 }),
    status: 413,
    fields: { limit: LIMIT6 },
  },
  {
    name: 'answers Upload-Length unequal to the completing body with 400 inconsistent length',
    request: res('PUT', { ...V9, complete: true, length: 50, contentLength: 40 }),
    status: 400,
    fields: { complete: false },
    problem: INCONSISTENT,
  },
  {
    name: 'answers a creation for a taken target with 409 and Upload-Complete: ?1',
    request: res('PUT', { ...V9, complete: true, contentLength: 4 }, true),
    status: 409,
    fields: { complete: true },
    interim: null,
  },
  {
    name: 'refuses Upload-Offset in an interop 6 creation',
    request: res('POST', { ...V6, complete: false, offset: 0 }),
    status: 400,
  },
  {
    name: 'refuses a malformed Upload-Complete',
    request: res('PUT', { ...V9, complete: 'invalid', contentLength: 4 }),
    status: 400,
  },
  // Unsupported interop version.
  {
    name: 'falls back to a plain PUT for Upload-Complete: ?1 with an unsupported version, no 104',
    request: res('PUT', { interopVersion: 8, complete: true, contentLength: 4 }),
    status: 201,
    action: { kind: 'plain-put', limit: 1000 },
    interim: null,
  },
  {
    name: 'refuses Upload-Complete: ?0 without a supported version',
    request: res('POST', { complete: false }),
    status: 400,
    interim: null,
  },
  {
    name: 'refuses HEAD of an upload with an unsupported version',
    request: up('HEAD', { interopVersion: 5 }),
    state: active,
    status: 400,
  },
  {
    name: 'accepts a newer interop version given in the options',
    request: up('HEAD', { interopVersion: 10 }),
    state: active,
    options: { interopVersions: [10, 9, 6] },
    status: 204,
  },
  // Plain PUT (issue 12).
  {
    name: 'stores a plain PUT atomically',
    request: res('PUT', { contentLength: 5 }),
    status: 201,
    action: { kind: 'plain-put', limit: 1000 },
  },
  {
    name: 'answers a plain PUT above the maximum size with 413',
    request: res('PUT', { contentLength: 1001 }),
    status: 413,
  },
  {
    name: 'answers a plain PUT to a taken target with 409',
    request: res('PUT', { contentLength: 5 }, true),
    status: 409,
  },
  {
    name: 'answers DELETE of a target path with 405',
    request: res('DELETE', V9),
    status: 405,
    has: { Allow: 'OPTIONS, PUT, POST' },
  },
  // HEAD (offset retrieval).
  {
    name: 'answers HEAD of an active upload with 204, offset, ?0, length, limit and no-store',
    request: up('HEAD', V9),
    state: active,
    status: 204,
    has: { 'Cache-Control': 'no-store' },
    fields: { offset: 10, complete: false, length: 100, limit: LIMIT9 },
  },
  {
    name: 'answers HEAD of a completed upload with ?1 and Upload-Length equal to the offset',
    request: up('HEAD', V6),
    state: { status: 'complete', offset: 70, length: undefined },
    status: 204,
    fields: { offset: 70, complete: true, length: 70, limit: LIMIT6 },
  },
  {
    name: 'leaves Upload-Length out of HEAD while the length is unknown',
    request: up('GET', V9),
    state: { status: 'active', offset: 3, length: undefined },
    status: 204,
    fields: { offset: 3, complete: false, limit: LIMIT9 },
  },
  {
    name: 'answers HEAD of an unknown upload with 404 and no-store',
    request: up('HEAD', V9),
    status: 404,
    has: { 'Cache-Control': 'no-store' },
    fields: {},
  },
  {
    name: 'answers HEAD of an expired upload with 410 at interop 9',
    request: up('HEAD', V9),
    state: { ...active, status: 'expired' },
    status: 410,
  },
  {
    name: 'answers HEAD of a terminated upload with 404 at interop 6',
    request: up('HEAD', V6),
    state: { ...active, status: 'terminated' },
    status: 404,
  },
  {
    name: 'refuses an interop 6 HEAD carrying Upload-Offset',
    request: up('HEAD', { ...V6, offset: 10 }),
    state: active,
    status: 400,
  },
  // PATCH (upload append).
  {
    name: 'appends with 204 at interop 9',
    request: up('PATCH', { ...PATCH9, offset: 10, complete: false, contentLength: 30 }),
    state: active,
    status: 204,
    action: {
      kind: 'append',
      append: { offset: 10, limit: 90, limitedBy: 'length' },
      complete: false,
    },
  },
  {
    name: 'appends with 201 at interop 6, as draft-05 asks',
    request: up('PATCH', { ...PATCH6, offset: 10, complete: false, contentLength: 30 }),
    state: active,
    status: 201,
  },
  {
    name: 'completes an upload and records the length it implies',
    request: up('PATCH', { ...PATCH6, offset: 10, complete: true, contentLength: 20 }),
    state: { status: 'active', offset: 10, length: undefined },
    status: 201,
    action: {
      kind: 'append',
      append: { offset: 10, limit: 20, limitedBy: 'length' },
      complete: true,
      length: 30,
    },
  },
  {
    name: 'answers a PATCH with another Content-Type with 415',
    request: up('PATCH', { ...V9, contentType: 'application/offset+octet-stream', offset: 10 }),
    state: active,
    status: 415,
    has: { 'Accept-Patch': PARTIAL_UPLOAD },
  },
  {
    name: 'answers a mismatched offset with 409, the current offset and the problem (interop 9)',
    request: up('PATCH', { ...PATCH9, offset: 40, complete: false, contentLength: 5 }),
    state: active,
    status: 409,
    fields: { offset: 10, complete: false },
    problem: MISMATCH,
    action: { kind: 'none' },
  },
  {
    name: 'answers a mismatched offset with 409 and the current offset (interop 6)',
    request: up('PATCH', { ...PATCH6, offset: 0, complete: false, contentLength: 5 }),
    state: active,
    status: 409,
    fields: { offset: 10 },
    problem: MISMATCH,
  },
  {
    name: 'refuses an interop 9 PATCH without Upload-Complete',
    request: up('PATCH', { ...PATCH9, offset: 10, contentLength: 5 }),
    state: active,
    status: 400,
  },
  {
    name: 'refuses a PATCH without Upload-Offset',
    request: up('PATCH', { ...PATCH6, complete: false, contentLength: 5 }),
    state: active,
    status: 400,
  },
  {
    name: 'answers a body past the known length with 400 inconsistent length',
    request: up('PATCH', { ...PATCH9, offset: 10, complete: false, contentLength: 91 }),
    state: active,
    status: 400,
    problem: INCONSISTENT,
  },
  {
    name: 'answers a changed Upload-Length with 400 inconsistent length',
    request: up('PATCH', { ...PATCH9, offset: 10, complete: false, length: 99, contentLength: 1 }),
    state: active,
    status: 400,
    problem: INCONSISTENT,
  },
  {
    name: 'answers a PATCH past the maximum size with 413 and Upload-Limit',
    request: up('PATCH', { ...PATCH9, offset: 10, complete: false, contentLength: 1000 }),
    state: { status: 'active', offset: 10, length: undefined },
    status: 413,
    fields: { limit: LIMIT9 },
  },
  {
    name: 'answers an append to a completed upload with 400 completed-upload (interop 6)',
    request: up('PATCH', { ...PATCH6, offset: 100, complete: true, contentLength: 5 }),
    state: done,
    status: 400,
    problem: COMPLETED,
    action: { kind: 'none' },
  },
  {
    name: 'answers bytes for a completed upload with 400 and Upload-Complete: ?0 (interop 9)',
    request: up('PATCH', { ...PATCH9, offset: 100, complete: true, contentLength: 5 }),
    state: done,
    status: 400,
    fields: { complete: false },
    problem: INCONSISTENT,
  },
  {
    name: 'replays the completion for an empty completing PATCH at the final offset',
    request: up('PATCH', { ...PATCH9, offset: 100, complete: true }),
    state: done,
    status: 200,
    fields: { offset: 100, complete: true },
    action: { kind: 'none' },
  },
  {
    name: 'answers PATCH of an unknown upload with 404',
    request: up('PATCH', { ...PATCH9, offset: 0, complete: false }),
    status: 404,
  },
  // DELETE (upload cancellation).
  {
    name: 'terminates an active upload with 204',
    request: up('DELETE', V6),
    state: active,
    status: 204,
    action: { kind: 'terminate' },
  },
  {
    name: 'answers DELETE of an unknown upload with 404',
    request: up('DELETE', V9),
    status: 404,
    action: { kind: 'none' },
  },
  {
    name: 'refuses an interop 6 DELETE carrying Upload-Complete',
    request: up('DELETE', { ...V6, complete: true }),
    state: active,
    status: 400,
  },
  {
    name: 'answers PUT to an upload resource with 405',
    request: up('PUT', V9),
    state: active,
    status: 405,
    has: { Allow: 'OPTIONS, HEAD, GET, PATCH, DELETE' },
  },
];

for (const row of rows) {
  test(`planIetfRequest() ${row.name}`, () => {
    const plan = planIetfRequest(row.request, row.state, { ...OPTS, ...row.options });
    assert.equal(plan.status, row.status, plan.reason);
    for (const [name, value] of Object.entries(row.has ?? {})) {
      assert.equal(plan.headers[name], value, name);
    }
    if (row.fields !== undefined) assert.deepEqual(plan.fields, row.fields);
    if (row.action !== undefined) assert.deepEqual(plan.action, row.action);
    if (row.interim === null) assert.equal(plan.interim, undefined);
    else if (row.interim !== undefined) {
      assert.equal(plan.interim?.status, 104);
      assert.equal(plan.interim?.headers.Location, OPTS.location);
      assert.deepEqual(plan.interim?.fields, row.interim);
    }
    assert.equal(plan.problem?.type, row.problem);
    if (plan.status >= 400) assert.deepEqual(plan.action, { kind: 'none' });
  });
}

test('planIetfRequest() fills the mismatching-offset problem members', () => {
  const plan = planIetfRequest(
    up('PATCH', { ...PATCH9, offset: 40, complete: false }),
    active,
    OPTS,
  );
  assert.deepEqual(plan.problem, {
    type: MISMATCH,
    title: 'offset from request does not match offset of resource',
    'expected-offset': 10,
    'provided-offset': 40,
  });
});

test('planIetfRequest() throws a TypeError for a creation without options.location', () => {
  assert.throws(
    () => planIetfRequest(res('POST', { ...V9, complete: false }), undefined, { token: 'ok' }),
    TypeError,
  );
});
