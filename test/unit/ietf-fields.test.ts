import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  IetfRequestFields,
  IetfResponseFields,
} from '../../src/core/upload/ietf-plan-types.js';
import {
  type IncomingHeaders,
  ietfHeaders,
  readIetfFields,
  serializeIetfFields,
} from '../../src/server/uploads/ietf-fields.js';

const NONE: IetfRequestFields = {
  interopVersion: undefined,
  complete: undefined,
  offset: undefined,
  length: undefined,
  contentType: undefined,
  contentLength: undefined,
};

const reads: [string, IncomingHeaders, Partial<IetfRequestFields>][] = [
  ['nothing from a request without the fields', {}, {}],
  [
    'what tus-js-client ietf-draft-05 sends on PATCH',
    {
      'upload-draft-interop-version': '6',
      'upload-offset': '1024',
      'upload-complete': '?1',
      'content-type': 'application/partial-upload',
      'content-length': '10',
    },
    {
      interopVersion: 6,
      offset: 1024,
      complete: true,
      contentType: 'application/partial-upload',
      contentLength: 10,
    },
  ],
  ['Upload-Complete: ?0 as false', { 'upload-complete': '?0' }, { complete: false }],
  ['a Boolean with parameters', { 'upload-complete': '?1;x=2' }, { complete: true }],
  [
    'Upload-Complete: 1 (an Integer) as invalid',
    { 'upload-complete': '1' },
    { complete: 'invalid' },
  ],
  [
    'Upload-Complete: true (a Token) as invalid',
    { 'upload-complete': 'true' },
    { complete: 'invalid' },
  ],
  ['a negative Upload-Offset as invalid', { 'upload-offset': '-1' }, { offset: 'invalid' }],
  ['a Decimal Upload-Offset as invalid', { 'upload-offset': '10.0' }, { offset: 'invalid' }],
  ['a String Upload-Length as invalid', { 'upload-length': '"10"' }, { length: 'invalid' }],
  [
    'an Integer of 16 digits as invalid',
    { 'upload-length': '1000000000000000' },
    { length: 'invalid' },
  ],
  ['an Integer with surrounding spaces', { 'upload-length': ' 77 ' }, { length: 77 }],
  ['two Upload-Offset lines as invalid', { 'upload-offset': ['1', '2'] }, { offset: 'invalid' }],
  [
    'an empty field as invalid',
    { 'upload-draft-interop-version': '' },
    { interopVersion: 'invalid' },
  ],
  [
    'the media type without parameters, in lower case',
    { 'content-type': 'Application/Partial-Upload; charset=x' },
    { contentType: 'application/partial-upload' },
  ],
  ['a chunked body as unknown', { 'transfer-encoding': 'chunked' }, { contentLength: 'unknown' }],
  ['a bad Content-Length as invalid', { 'content-length': '1e3' }, { contentLength: 'invalid' }],
];

for (const [name, headers, expected] of reads) {
  test(`readIetfFields() reads ${name}`, () => {
    assert.deepEqual(readIetfFields(headers), { ...NONE, ...expected });
  });
}

const writes: [string, IetfResponseFields, Record<string, string>][] = [
  ['nothing for no fields', {}, {}],
  ['booleans as ?1 and ?0', { complete: true }, { 'Upload-Complete': '?1' }],
  ['false as ?0', { complete: false }, { 'Upload-Complete': '?0' }],
  [
    'integers and the interop version',
    { interopVersion: 9, offset: 0, length: 123456789 },
    { 'Upload-Draft-Interop-Version': '9', 'Upload-Offset': '0', 'Upload-Length': '123456789' },
  ],
  [
    'Upload-Limit as a Dictionary',
    { limit: { 'max-size': 1000, 'max-age': 3600 } },
    { 'Upload-Limit': 'max-size=1000, max-age=3600' },
  ],
  [
    'min-size=0 when no limit applies',
    { limit: { 'min-size': 0 } },
    { 'Upload-Limit': 'min-size=0' },
  ],
];

for (const [name, fields, expected] of writes) {
  test(`serializeIetfFields() writes ${name}`, () => {
    assert.deepEqual(serializeIetfFields(fields), expected);
  });
}

test('ietfHeaders() joins plain headers and serialised fields, as a 104 needs them', () => {
  assert.deepEqual(
    ietfHeaders({
      headers: { Location: '/.uploads/abc' },
      fields: { interopVersion: 6, limit: { 'max-size': 5, expires: 60 } },
    }),
    {
      Location: '/.uploads/abc',
      'Upload-Draft-Interop-Version': '6',
      'Upload-Limit': 'max-size=5, expires=60',
    },
  );
});

test('readIetfFields() reads what serializeIetfFields() writes', () => {
  const written = serializeIetfFields({ offset: 42, complete: false, length: 99 });
  const lower = Object.fromEntries(Object.entries(written).map(([k, v]) => [k.toLowerCase(), v]));
  const read = readIetfFields(lower);
  assert.equal(read.offset, 42);
  assert.equal(read.complete, false);
  assert.equal(read.length, 99);
});
