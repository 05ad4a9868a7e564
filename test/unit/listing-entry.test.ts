import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePathSegment, entryHref } from '../../src/server/listing/entry.js';

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

test('encodePathSegment() encodes bytes that are not UTF-8 byte by byte', () => {
  assert.equal(encodePathSegment(Uint8Array.from([0xff, 0xfe, 0x2e, 0x74])), '%FF%FE.t');
  assert.equal(encodePathSegment(Uint8Array.from([0x00, 0x2f, 0x41, 0x7e])), '%00%2FA~');
});
