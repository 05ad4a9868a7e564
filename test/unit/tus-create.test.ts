import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planTusRequest, type TusPlanOptions } from '../../src/core/upload/tus-plan.js';

// POST to the endpoint: tus 1.0.0 §Creation, §Creation With Upload, §Creation Defer Length,
// §Concatenation, and issue 12's `filename` rule.
const V = { 'tus-resumable': '1.0.0' };
const OPTS: TusPlanOptions = { token: 'ok', maxSize: 1000, location: '/.uploads/abc' };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const named = (name: string) => ({ 'upload-metadata': `filename ${b64(name)}` });
const EXPIRES = Date.UTC(2026, 11, 7, 12, 0, 0);

interface Row {
  name: string;
  headers: Record<string, string>;
  options?: Partial<TusPlanOptions>;
  status: number;
  action?: string;
  has?: Record<string, string>;
}

const rows: Row[] = [
  // tus 1.0.0 §Creation: "201 Created status. The Server MUST set the Location header".
  {
    name: 'creates with 201 and Location',
    headers: { ...V, 'upload-length': '100', ...named('a/b.txt') },
    options: { expires: EXPIRES },
    status: 201,
    action: 'create',
    has: { Location: '/.uploads/abc', 'Upload-Expires': 'Mon, 07 Dec 2026 12:00:00 GMT' },
  },
  {
    name: 'creates an empty upload (Upload-Length: 0)',
    headers: { ...V, 'upload-length': '0', ...named('empty.txt') },
    status: 201,
    action: 'create',
  },
  // tus 1.0.0 §Creation: the request "MUST include one of" Upload-Length, Upload-Defer-Length: 1.
  {
    name: 'answers neither Upload-Length nor Upload-Defer-Length with 400',
    headers: { ...V, ...named('a') },
    status: 400,
  },
  {
    name: 'answers both Upload-Length and Upload-Defer-Length with 400',
    headers: { ...V, 'upload-length': '5', 'upload-defer-length': '1', ...named('a') },
    status: 400,
  },
  {
    name: 'answers Upload-Defer-Length: 2 with 400',
    headers: { ...V, 'upload-defer-length': '2', ...named('a') },
    status: 400,
  },
  {
    name: 'creates a deferred-length upload',
    headers: { ...V, 'upload-defer-length': '1', ...named('a') },
    status: 201,
    action: 'create',
  },
  {
    name: 'answers a deferred length with 400 when creation-defer-length is off',
    headers: { ...V, 'upload-defer-length': '1', ...named('a') },
    options: { extensions: ['creation'] },
    status: 400,
  },
  {
    name: 'answers a bad Upload-Length with 400',
    headers: { ...V, 'upload-length': '1e3', ...named('a') },
    status: 400,
  },
  // tus 1.0.0 §Creation: above Tus-Max-Size "MUST respond with the 413 Request Entity Too Large".
  {
    name: 'answers an Upload-Length above Tus-Max-Size with 413',
    headers: { ...V, 'upload-length': '1001', ...named('a') },
    status: 413,
  },
  {
    name: 'answers a huge Upload-Length with 413 even without Tus-Max-Size',
    headers: { ...V, 'upload-length': '123456789012345678901234', ...named('a') },
    options: { maxSize: undefined },
    status: 413,
  },
  // Issue 12: `filename` is required (except on partial uploads) and follows the URL path rules.
  {
    name: 'answers a missing filename with 400',
    headers: { ...V, 'upload-length': '5' },
    status: 400,
  },
  {
    name: 'answers a filename with .. with 400',
    headers: { ...V, 'upload-length': '5', ...named('../x') },
    status: 400,
  },
  {
    name: 'answers a dot-name with 400 without dotfiles',
    headers: { ...V, 'upload-length': '5', ...named('.env') },
    status: 400,
  },
  {
    name: 'accepts a dot-name with dotfiles',
    headers: { ...V, 'upload-length': '5', ...named('.env') },
    options: { dotfiles: true },
    status: 201,
    action: 'create',
  },
  {
    name: 'answers a filename that is not UTF-8 with 400',
    headers: { ...V, 'upload-length': '5', 'upload-metadata': 'filename /w==' },
    status: 400,
  },
  {
    name: 'answers bad Upload-Metadata with 400',
    headers: { ...V, 'upload-length': '5', 'upload-metadata': 'filename x,filename y' },
    status: 400,
  },
  {
    name: 'answers Upload-Metadata above the cap with 431',
    headers: { ...V, 'upload-length': '5', ...named('a'.repeat(100)) },
    options: { maxMetadataLength: 64 },
    status: 431,
  },
  // tus 1.0.0 §Concatenation.
  {
    name: 'creates a partial upload without a filename',
    headers: { ...V, 'upload-length': '5', 'upload-concat': 'partial' },
    status: 201,
    action: 'create',
  },
  {
    name: 'creates a final upload from its partial uploads',
    headers: { ...V, 'upload-concat': 'final;/.uploads/a /.uploads/b', ...named('all.bin') },
    status: 201,
    action: 'create-final',
  },
  {
    name: 'answers a final upload with Upload-Length with 400',
    headers: { ...V, 'upload-concat': 'final;/.uploads/a', 'upload-length': '5', ...named('x') },
    status: 400,
  },
  {
    name: 'answers a final upload without a filename with 400',
    headers: { ...V, 'upload-concat': 'final;/.uploads/a' },
    status: 400,
  },
  {
    name: 'answers a bad Upload-Concat with 400',
    headers: { ...V, 'upload-concat': 'final;', ...named('x') },
    status: 400,
  },
  {
    name: 'answers Upload-Concat with 400 when concatenation is off',
    headers: { ...V, 'upload-length': '5', 'upload-concat': 'partial' },
    options: { extensions: ['creation'] },
    status: 400,
  },
  {
    name: 'answers POST with 405 when creation is off',
    headers: { ...V, 'upload-length': '5', ...named('a') },
    options: { extensions: ['termination'] },
    status: 405,
  },
  // tus 1.0.0 §Creation With Upload.
  {
    name: 'answers a body with another Content-Type with 415',
    headers: {
      ...V,
      'upload-length': '5',
      ...named('a'),
      'content-length': '5',
      'content-type': 'text/plain',
    },
    status: 415,
  },
  {
    name: 'answers a body longer than Upload-Length with 413',
    headers: {
      ...V,
      'upload-length': '5',
      ...named('a'),
      'content-length': '6',
      'content-type': 'application/offset+octet-stream',
    },
    status: 413,
  },
  {
    name: 'answers a body with 400 when creation-with-upload is off',
    headers: {
      ...V,
      'upload-length': '5',
      ...named('a'),
      'content-length': '5',
      'content-type': 'application/offset+octet-stream',
    },
    options: { extensions: ['creation'] },
    status: 400,
  },
];

for (const row of rows) {
  test(`planTusRequest() POST ${row.name}`, () => {
    const plan = planTusRequest('POST', row.headers, undefined, { ...OPTS, ...row.options });
    assert.equal(plan.status, row.status, plan.reason);
    assert.equal(plan.action.kind, row.action ?? 'none');
    assert.equal(plan.headers['Tus-Resumable'], '1.0.0');
    for (const [k, v] of Object.entries(row.has ?? {})) assert.equal(plan.headers[k], v, k);
    if (plan.status !== 201) assert.equal(plan.headers.Location, undefined);
  });
}

test('planTusRequest() POST gives the shell the length, the name and the metadata', () => {
  const metadata = `filename ${b64('music/take1.wav')},type ${b64('audio/wav')}`;
  const plan = planTusRequest(
    'POST',
    { ...V, 'upload-length': '100', 'upload-metadata': metadata },
    undefined,
    OPTS,
  );
  assert.equal(plan.action.kind, 'create');
  if (plan.action.kind !== 'create') return;
  assert.equal(plan.action.length, 100);
  assert.deepEqual(plan.action.filename, ['music', 'take1.wav']);
  assert.deepEqual(
    plan.action.metadata.map((p) => [p.key, p.text]),
    [
      ['filename', 'music/take1.wav'],
      ['type', 'audio/wav'],
    ],
  );
  assert.equal(plan.action.rawMetadata, metadata);
  assert.equal(plan.action.partial, false);
  assert.equal(plan.action.append, undefined);
});

test('planTusRequest() POST with a body appends from 0 with the checksum', () => {
  const headers = {
    ...V,
    'upload-length': '50',
    ...named('a.bin'),
    'content-type': 'application/offset+octet-stream',
    'transfer-encoding': 'chunked',
    'upload-checksum': 'md5 1B2M2Y8AsgTpgAmY7PhCfg==',
  };
  const plan = planTusRequest('POST', headers, undefined, OPTS);
  assert.equal(plan.status, 201, plan.reason);
  assert.equal(plan.action.kind, 'create');
  if (plan.action.kind !== 'create') return;
  assert.equal(plan.action.append?.offset, 0);
  assert.equal(plan.action.append?.limit, 50);
  assert.equal(plan.action.append?.checksum?.algorithm, 'md5');
});

test('planTusRequest() POST of a final upload names the partial uploads in order', () => {
  const headers = { ...V, 'upload-concat': 'final;/.uploads/b /.uploads/a', ...named('x/all.bin') };
  const plan = planTusRequest('POST', headers, undefined, OPTS);
  assert.equal(plan.action.kind, 'create-final');
  if (plan.action.kind !== 'create-final') return;
  assert.deepEqual(plan.action.urls, ['/.uploads/b', '/.uploads/a']);
  assert.deepEqual(plan.action.filename, ['x', 'all.bin']);
});

test('planTusRequest() POST without options.location is a programmer error', () => {
  assert.throws(
    () =>
      planTusRequest('POST', { ...V, 'upload-length': '1', ...named('a') }, undefined, {
        token: 'ok',
      }),
    TypeError,
  );
});
