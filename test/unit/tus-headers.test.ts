import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeBase64,
  parseTusResumable,
  parseUploadChecksum,
  parseUploadConcat,
  parseUploadDeferLength,
  parseUploadLength,
  parseUploadMetadata,
  parseUploadOffset,
} from '../../src/core/upload/tus-headers.js';

const text = new TextEncoder();

// RFC 4648 §4: padded base64, nothing lenient.
const base64: [string, number[] | undefined][] = [
  ['', []],
  ['d29ybGQ=', [...text.encode('world')]],
  ['AAEC', [0, 1, 2]],
  ['d29ybGQ', undefined], // no padding
  ['d29y bGQ=', undefined],
  ['d29ybGQ=\n', undefined],
  ['d2-_', undefined], // base64url
  ['====', undefined],
];
for (const [input, bytes] of base64) {
  test(`decodeBase64() ${bytes === undefined ? 'refuses' : 'reads'} ${JSON.stringify(input)}`, () => {
    const got = decodeBase64(input);
    assert.deepEqual(got === undefined ? undefined : [...got], bytes);
  });
}

// tus 1.0.0 §Upload-Length / §Upload-Offset: "The value MUST be a non-negative integer."
// House rule 5: strict digits; a huge length is above any size (413), a huge offset clamps (409).
const numbers: [string | undefined, string, string][] = [
  [undefined, 'absent', 'absent'],
  ['0', 'ok:0', 'ok:0'],
  ['1048576', 'ok:1048576', 'ok:1048576'],
  ['007', 'ok:7', 'ok:7'],
  ['-1', 'invalid', 'invalid'],
  ['+5', 'invalid', 'invalid'],
  [' 5', 'invalid', 'invalid'],
  ['5, 5', 'invalid', 'invalid'], // a duplicated field, joined by node
  ['0x10', 'invalid', 'invalid'],
  ['1e3', 'invalid', 'invalid'],
  ['1.5', 'invalid', 'invalid'],
  ['', 'invalid', 'invalid'],
  ['99999999999999999999', 'too-large', `ok:${Number.MAX_SAFE_INTEGER}`],
];
for (const [input, length, offset] of numbers) {
  const show = (r: { kind: string; value?: number }) =>
    r.value === undefined ? r.kind : `${r.kind}:${r.value}`;
  test(`parseUploadLength() reads ${JSON.stringify(input)} as ${length}`, () => {
    assert.equal(show(parseUploadLength(input)), length);
  });
  test(`parseUploadOffset() reads ${JSON.stringify(input)} as ${offset}`, () => {
    assert.equal(show(parseUploadOffset(input)), offset);
  });
}

// tus 1.0.0 §Creation, Upload-Defer-Length: "Its value MUST be 1."
const defer: [string | undefined, string][] = [
  [undefined, 'absent'],
  ['1', 'deferred'],
  ['0', 'invalid'],
  ['true', 'invalid'],
  [' 1', 'invalid'],
];
for (const [input, kind] of defer) {
  test(`parseUploadDeferLength() reads ${JSON.stringify(input)} as ${kind}`, () => {
    assert.equal(parseUploadDeferLength(input).kind, kind);
  });
}

// tus 1.0.0 §Tus-Resumable: another version is 412 with Tus-Version.
const versions: [string | undefined, string][] = [
  [undefined, 'absent'],
  ['1.0.0', 'ok'],
  ['0.2.2', 'unsupported'],
  ['1.0', 'unsupported'],
  ['', 'unsupported'],
];
for (const [input, kind] of versions) {
  test(`parseTusResumable() reads ${JSON.stringify(input)} as ${kind}`, () => {
    assert.equal(parseTusResumable(input, ['1.0.0']).kind, kind);
  });
}

// tus 1.0.0 §Creation, Upload-Metadata: comma-separated "key base64", unique keys, no space or
// comma in a key, "The value MAY be empty. In these cases, the space [...] MAY be left out."
const metadataOk: [string, [string, string | undefined][]][] = [
  ['filename d29ybGQ=', [['filename', 'world']]],
  [
    'filename d29ybGQ=,is_confidential',
    [
      ['filename', 'world'],
      ['is_confidential', ''],
    ],
  ],
  ['empty ', [['empty', '']]],
  [
    'a AAEC, b d29ybGQ=',
    [
      ['a', '\u0000\u0001\u0002'],
      ['b', 'world'],
    ],
  ],
  ['bin /w==', [['bin', undefined]]], // 0xFF is not UTF-8: bytes only
];
for (const [input, pairs] of metadataOk) {
  test(`parseUploadMetadata() reads ${JSON.stringify(input)}`, () => {
    const r = parseUploadMetadata(input);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(
      r.pairs.map((p) => [p.key, p.text]),
      pairs,
    );
  });
}
test('parseUploadMetadata() keeps the exact bytes of a value', () => {
  const r = parseUploadMetadata('bin /wAB');
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok') assert.deepEqual([...(r.pairs[0]?.value ?? [])], [0xff, 0, 1]);
});

const metadataBad: [string, string, string][] = [
  ['rejects a duplicate key', 'a d29ybGQ=,a d29ybGQ=', 'duplicate'],
  ['rejects bad base64', 'a d29ybGQ', 'not base64'],
  ['rejects base64url', 'a d2-_', 'not base64'],
  ['rejects a second space (a key with a space)', 'my key d29ybGQ=', 'not base64'],
  ['rejects an empty pair', 'a d29ybGQ=,,b', 'empty'],
  ['rejects an empty header', '', 'empty'],
  ['rejects a key with a tab', 'a\tb d29ybGQ=', 'bad metadata key'],
  ['rejects a non-ASCII key', 'clé d29ybGQ=', 'bad metadata key'],
];
for (const [name, input, reason] of metadataBad) {
  test(`parseUploadMetadata() ${name}`, () => {
    const r = parseUploadMetadata(input);
    assert.equal(r.kind, 'invalid');
    if (r.kind === 'invalid') assert.match(r.reason, new RegExp(reason));
  });
}
test('parseUploadMetadata() caps the header size (issue 12)', () => {
  const long = `filename ${'QUFB'.repeat(100)}`;
  assert.deepEqual(parseUploadMetadata(long, { maxLength: 64 }), { kind: 'too-large', limit: 64 });
  assert.equal(parseUploadMetadata(long, { maxLength: long.length }).kind, 'ok');
  assert.equal(parseUploadMetadata(undefined).kind, 'absent');
});

// tus 1.0.0 §Checksum, Upload-Checksum: "the name of the used checksum algorithm and the Base64
// encoded checksum separated by a space"; an unsupported algorithm is 400.
const algos = ['md5', 'sha1', 'sha256'];
const checksums: [string | undefined, string][] = [
  [undefined, 'absent'],
  ['sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=', 'ok'],
  ['SHA1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=', 'ok'],
  ['sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpgWy+1y9mHg=', 'ok'],
  ['md5 1B2M2Y8AsgTpgAmY7PhCfg==', 'ok'],
  ['crc32 AAAAAA==', 'unsupported'],
  ['sha512 AAAA', 'unsupported'],
  ['sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk', 'invalid'], // not padded
  ['sha1 1B2M2Y8AsgTpgAmY7PhCfg==', 'invalid'], // 16 bytes is not a SHA-1
  ['sha1', 'invalid'],
  ['sha1  2jmj7l5rSw0yVb/vlWAYkK/YBwk=', 'invalid'],
];
for (const [input, kind] of checksums) {
  test(`parseUploadChecksum() reads ${JSON.stringify(input)} as ${kind}`, () => {
    assert.equal(parseUploadChecksum(input, algos).kind, kind);
  });
}
test('parseUploadChecksum() gives the algorithm in lower case and the digest bytes', () => {
  const r = parseUploadChecksum('MD5 1B2M2Y8AsgTpgAmY7PhCfg==', algos);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.algorithm, 'md5');
  assert.equal(Buffer.from(r.digest).toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
});

// tus 1.0.0 §Concatenation, Upload-Concat: "partial" or "final;" and space-separated URLs.
const concat: [string | undefined, string, string[]?][] = [
  [undefined, 'absent'],
  ['partial', 'partial'],
  ['final;/files/a /files/b', 'final', ['/files/a', '/files/b']],
  ['final;http://x/files/a', 'final', ['http://x/files/a']],
  ['final; /files/a  /files/b', 'final', ['/files/a', '/files/b']],
  ['final;', 'invalid'],
  ['final', 'invalid'],
  ['Partial', 'invalid'],
  ['final;/a,/b', 'invalid'],
  ['other', 'invalid'],
];
for (const [input, kind, urls] of concat) {
  test(`parseUploadConcat() reads ${JSON.stringify(input)} as ${kind}`, () => {
    const r = parseUploadConcat(input);
    assert.equal(r.kind, kind);
    if (r.kind === 'final') assert.deepEqual(r.urls, urls);
  });
}
