import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  finishIetfBody,
  type IetfBodyOutcome,
  type IetfFinal,
  type IetfPlanOptions,
  type IetfRequest,
  type IetfUploadState,
  PARTIAL_UPLOAD,
  planIetfRequest,
} from '../../src/core/upload/ietf-plan.js';

const OPTS: IetfPlanOptions = { token: 'ok', maxSize: 1000, location: '/.uploads/abc' };
const LIMIT = { 'max-size': 1000 };
const INCONSISTENT = 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length';

const create = (version: number, complete: boolean, length?: number): IetfRequest => ({
  method: 'POST',
  target: 'resource',
  fields: {
    interopVersion: version,
    complete,
    contentLength: 'unknown',
    ...(length !== undefined ? { length } : {}),
  },
});
const patch = (version: number, complete: boolean): IetfRequest => ({
  method: 'PATCH',
  target: 'upload',
  fields: {
    interopVersion: version,
    complete,
    offset: 10,
    contentType: PARTIAL_UPLOAD,
    contentLength: 'unknown',
  },
});
const plainPut: IetfRequest = { method: 'PUT', target: 'resource', fields: { contentLength: 4 } };
const active: IetfUploadState = { status: 'active', offset: 10, length: undefined };
const sized: IetfUploadState = { status: 'active', offset: 10, length: 50 };

interface Row {
  name: string;
  request: IetfRequest;
  state?: IetfUploadState;
  outcome: IetfBodyOutcome;
  expected: IetfFinal;
}

const LOC = { Location: '/.uploads/abc' };

const rows: Row[] = [
  {
    name: 'answers a stored incomplete creation with 201, Upload-Offset and ?0',
    request: create(9, false),
    outcome: { kind: 'stored', offset: 25, complete: false },
    expected: {
      status: 201,
      headers: LOC,
      fields: { limit: LIMIT, offset: 25, complete: false },
    },
  },
  {
    name: 'answers a creation that completed with 201, Location, Upload-Offset and ?1 (interop 6)',
    request: create(6, true),
    outcome: { kind: 'stored', offset: 40, complete: true },
    expected: { status: 201, headers: LOC, fields: { limit: LIMIT, offset: 40, complete: true } },
  },
  {
    name: 'answers a stored incomplete append with 204 at interop 9',
    request: patch(9, false),
    state: active,
    outcome: { kind: 'stored', offset: 30, complete: false },
    expected: { status: 204, headers: {}, fields: { limit: LIMIT, offset: 30, complete: false } },
  },
  {
    name: 'answers a stored incomplete append with 201 at interop 6',
    request: patch(6, false),
    state: active,
    outcome: { kind: 'stored', offset: 30, complete: false },
    expected: { status: 201, headers: {}, fields: { limit: LIMIT, offset: 30, complete: false } },
  },
  {
    name: 'answers an append that completed with 201 and ?1',
    request: patch(9, true),
    state: active,
    outcome: { kind: 'stored', offset: 60, complete: true },
    expected: { status: 201, headers: {}, fields: { limit: LIMIT, offset: 60, complete: true } },
  },
  {
    name: 'answers a body past the maximum size with 413 and Upload-Limit',
    request: patch(9, false),
    state: active,
    outcome: { kind: 'too-large', offset: 1000 },
    expected: { status: 413, headers: {}, fields: { limit: LIMIT, offset: 1000 } },
  },
  {
    name: 'answers a body past the known length with 400 inconsistent length',
    request: patch(9, false),
    state: sized,
    outcome: { kind: 'too-large', offset: 50 },
    expected: {
      status: 400,
      headers: {},
      fields: { limit: LIMIT, offset: 50, complete: false },
      problem: { type: INCONSISTENT, title: 'inconsistent length values for upload' },
    },
  },
  {
    name: 'answers a body past the known length with a bare 400 at interop 6',
    request: create(6, false, 20),
    outcome: { kind: 'too-large', offset: 20 },
    expected: { status: 400, headers: LOC, fields: { limit: LIMIT, offset: 20 } },
  },
  {
    name: 'answers a completion whose target was taken meanwhile with 409 and ?1',
    request: patch(9, true),
    state: active,
    outcome: { kind: 'target-taken', offset: 60 },
    expected: { status: 409, headers: {}, fields: { limit: LIMIT, offset: 60, complete: true } },
  },
  {
    name: 'answers a stored plain PUT with 201',
    request: plainPut,
    outcome: { kind: 'stored', offset: 4, complete: true },
    expected: { status: 201, headers: {}, fields: {} },
  },
  {
    name: 'answers a plain PUT past the maximum size with 413',
    request: plainPut,
    outcome: { kind: 'too-large', offset: 0 },
    expected: { status: 413, headers: {}, fields: {} },
  },
  {
    name: 'answers a plain PUT whose target was taken meanwhile with 409',
    request: plainPut,
    outcome: { kind: 'target-taken', offset: 4 },
    expected: { status: 409, headers: {}, fields: {} },
  },
];

for (const row of rows) {
  test(`finishIetfBody() ${row.name}`, () => {
    const plan = planIetfRequest(row.request, row.state, OPTS);
    assert.ok(plan.status < 400, plan.reason);
    assert.deepEqual(finishIetfBody(plan, row.outcome), row.expected);
  });
}

test('finishIetfBody() throws a TypeError for a plan without a body', () => {
  const plan = planIetfRequest(
    { method: 'DELETE', target: 'upload', fields: { interopVersion: 9 } },
    active,
    OPTS,
  );
  assert.throws(
    () => finishIetfBody(plan, { kind: 'stored', offset: 0, complete: false }),
    TypeError,
  );
});
