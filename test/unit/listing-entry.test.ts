import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePathSegment, encodePathSegment, entryHref } from '../../src/server/listing/entry.js';

const segments: [string, string][] = [
  ['plain.txt', 'plain.txt'],
  ['a b.txt', 'a%20b.txt'],
  ['a#b?c%d.txt', 'a%23b%3Fc%25d.txt'],
  ['café ü.md', 'caf%C3%A9%20%C3%BC.md'],
  ["it's (1)*!.txt", 'it%27s%20%281%29%2A%21.txt'],
  ['a:b', 'a%3Ab'],
  ['<img src=x onerror=alert(1)>.txt', '%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt'],
  ['semi;colon&amp', 'semi%3Bcolon%26amp'],
  ['~tilde-_.', '~tilde-_.'],
];
for (const [name, encoded] of segments) {
  test(`encodePathSegment() encodes ${JSON.stringify(name)} as ${encoded}`, () => {
    assert.equal(encodePathSegment(name), encoded);
    assert.equal(decodeURIComponent(encoded), name);
  });
}

test('entryHref() ends folders with a slash', () => {
  assert.equal(entryHref({ name: 'a b', kind: 'directory' }), 'a%20b/');
  assert.equal(entryHref({ name: 'a b', kind: 'file' }), 'a%20b');
});

const raw: [string, number[], string][] = [
  ['bytes that are not UTF-8', [0xff, 0xfe, 0x2e, 0x74], '%FF%FE.t'],
  ['a NUL and a slash byte', [0x00, 0x2f], '%00%2F'],
  ['unreserved bytes', [0x41, 0x7e, 0x2d], 'A~-'],
];
for (const [what, bytes, encoded] of raw) {
  test(`encodePathSegment() and decodePathSegment() round-trip ${what}`, () => {
    assert.equal(encodePathSegment(Uint8Array.from(bytes)), encoded);
    assert.deepEqual(decodePathSegment(encoded), Uint8Array.from(bytes));
  });
}

test("decodePathSegment() gives a name's UTF-8 bytes, and reads a stray % as itself", () => {
  for (const [name, encoded] of segments) {
    assert.deepEqual(decodePathSegment(encoded), new TextEncoder().encode(name), name);
  }
  assert.deepEqual(decodePathSegment('é%'), Uint8Array.from([0xc3, 0xa9, 0x25]));
  assert.deepEqual(decodePathSegment('%zz%4'), new TextEncoder().encode('%zz%4'));
});
