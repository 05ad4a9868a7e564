import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AnswerAction,
  answerAction,
  chooseChecksum,
  creationAction,
  discoverProtocol,
  type FileFacts,
  fileVerdict,
  planParts,
  samplePositions,
  statVerdict,
} from '../../src/core/upload/client-plan.js';

type Headers = Record<string, string | undefined>;

// tus §OPTIONS: a 200/204 "MUST contain the Tus-Version header"; anything else is the draft.
const discoveries: [number, Headers, 'tus' | 'ietf' | undefined, unknown][] = [
  [
    204,
    {
      'tus-version': '1.0.0',
      'tus-extension': 'creation,Concatenation',
      'tus-checksum-algorithm': 'sha1, sha256',
    },
    undefined,
    { protocol: 'tus', extensions: ['creation', 'concatenation'], checksums: ['sha1', 'sha256'] },
  ],
  [200, { 'tus-version': '1.0.0' }, undefined, { protocol: 'tus', extensions: [], checksums: [] }],
  [204, {}, undefined, { protocol: 'ietf' }],
  [404, { 'tus-version': '1.0.0' }, undefined, { protocol: 'ietf' }],
  [204, { 'tus-version': '1.0.0' }, 'ietf', { protocol: 'ietf' }],
  [405, {}, 'tus', { protocol: 'tus', extensions: [], checksums: [] }],
];
for (const [status, headers, forced, expected] of discoveries) {
  test(`discoverProtocol() reads ${status} ${JSON.stringify(headers)} (forced ${forced}) as ${JSON.stringify(expected)}`, () => {
    assert.deepEqual(discoverProtocol({ status, headers }, forced), expected);
  });
}

// tus §Checksum: sha1 is the algorithm every server supports.
const checksums: [string[], string][] = [
  [['md5', 'sha1', 'sha256'], 'sha256'],
  [['md5', 'sha1'], 'sha1'],
  [[], 'sha1'],
];
for (const [offered, expected] of checksums) {
  test(`chooseChecksum() picks ${expected} from [${offered}]`, () => {
    assert.equal(chooseChecksum(offered), expected);
  });
}

// tus §PATCH, §Checksum, §Expiration; draft-12 §Upload Append.
const answers: [number, Headers, AnswerAction['kind'], number | undefined][] = [
  [204, { 'upload-offset': '8388608' }, 'offset', 8388608],
  [201, { 'upload-offset': '100' }, 'offset', 100],
  [200, { 'upload-offset': '0' }, 'offset', 0],
  [204, {}, 'ask-offset', undefined],
  [204, { 'upload-offset': '-1' }, 'ask-offset', undefined],
  [204, { 'upload-offset': '1e3' }, 'ask-offset', undefined],
  [204, { 'upload-offset': '10000001' }, 'fatal', undefined],
  [409, { 'upload-offset': '5' }, 'ask-offset', undefined],
  [460, {}, 'retry', undefined],
  [404, {}, 'start-over', undefined],
  [410, {}, 'start-over', undefined],
  [401, {}, 'fatal', undefined],
  [403, {}, 'fatal', undefined],
  [413, {}, 'fatal', undefined],
  [423, {}, 'retry', undefined],
  [429, {}, 'retry', undefined],
  [500, {}, 'retry', undefined],
  [503, {}, 'retry', undefined],
  [501, {}, 'fatal', undefined],
  [400, {}, 'fatal', undefined],
];
for (const [status, headers, kind, offset] of answers) {
  test(`answerAction() turns ${status} ${JSON.stringify(headers)} into ${kind}`, () => {
    const action = answerAction({ status, headers }, 10_000_000);
    assert.equal(action.kind, kind);
    if (action.kind === 'offset') assert.equal(action.offset, offset);
  });
}

const creations: [number, Headers, string][] = [
  [201, { location: '/.uploads/abc' }, 'created'],
  [201, {}, 'fatal'],
  [409, {}, 'fatal'],
  [401, {}, 'fatal'],
  [413, {}, 'fatal'],
  [404, {}, 'fatal'],
  [503, {}, 'retry'],
  [429, {}, 'retry'],
];
for (const [status, headers, kind] of creations) {
  test(`creationAction() turns ${status} ${JSON.stringify(headers)} into ${kind}`, () => {
    assert.equal(creationAction({ status, headers }).kind, kind);
  });
}

test('answers that break the protocol are fatal and marked broken (exit 5, as get), refusals are not', () => {
  const past = answerAction({ status: 204, headers: { 'upload-offset': '10000001' } }, 10_000_000);
  assert.deepEqual([past.kind, past.kind === 'fatal' && past.broken], ['fatal', true]);
  const noLocation = creationAction({ status: 201, headers: {} });
  assert.deepEqual(
    [noLocation.kind, noLocation.kind === 'fatal' && noLocation.broken],
    ['fatal', true],
  );
  for (const status of [400, 401, 403, 413, 501]) {
    const refused = answerAction({ status, headers: {} }, 10);
    assert.equal(refused.kind === 'fatal' && refused.broken, undefined, String(status));
  }
});

const splits: [number, number, number, [number, number][]][] = [
  [
    100,
    4,
    10,
    [
      [0, 25],
      [25, 25],
      [50, 25],
      [75, 25],
    ],
  ],
  [
    103,
    4,
    10,
    [
      [0, 25],
      [25, 25],
      [50, 25],
      [75, 28],
    ],
  ],
  [
    25,
    4,
    10,
    [
      [0, 12],
      [12, 13],
    ],
  ],
  [5, 4, 10, [[0, 5]]],
  [0, 4, 10, [[0, 0]]],
];
for (const [size, n, min, expected] of splits) {
  test(`planParts() splits ${size} bytes over ${n} uploads (parts of ${min} or more)`, () => {
    const parts = planParts(size, n, min);
    assert.deepEqual(
      parts.map((p) => [p.start, p.length]),
      expected,
    );
  });
}

test('samplePositions() reads a small file whole, a large one in evenly spread blocks', () => {
  assert.deepEqual(samplePositions(100, 16, 64), [{ start: 0, length: 100 }]);
  const blocks = samplePositions(10_000, 4, 100);
  assert.deepEqual(
    blocks.map((b) => b.start),
    [0, 3300, 6600, 9900],
  );
  assert.ok(blocks.every((b) => b.length === 100));
});

const facts: FileFacts = { size: 10, mtimeMs: 5, digest: 'aa' };
const verdicts: [FileFacts, string][] = [
  [facts, 'same'],
  [{ ...facts, size: 11 }, 'changed'],
  [{ ...facts, mtimeMs: 6 }, 'changed'],
  [{ ...facts, digest: 'bb' }, 'changed'],
];
for (const [now, kind] of verdicts) {
  test(`fileVerdict() says ${kind} for ${JSON.stringify(now)}`, () => {
    assert.equal(fileVerdict(facts, now).kind, kind);
  });
}

test('statVerdict() during a run also compares the inode and the ctime (an mtime set back is still a change)', () => {
  const start = { size: 10, mtimeMs: 5, ino: 7, ctimeMs: 5 };
  assert.deepEqual(statVerdict(start, { ...start }), { kind: 'same' });
  assert.deepEqual(statVerdict(start, { ...start, ino: 8 }), {
    kind: 'changed',
    why: 'another file took its name',
  });
  assert.deepEqual(statVerdict(start, { ...start, ctimeMs: 6 }), {
    kind: 'changed',
    why: 'it was modified',
  });
  // Between runs only size and mtime are saved: no inode, no ctime to compare.
  assert.deepEqual(statVerdict({ size: 10, mtimeMs: 5 }, { ...start, ino: 9, ctimeMs: 9 }), {
    kind: 'same',
  });
});

test('statVerdict() compares the size and the mtime only, and says why', () => {
  const start = { size: 10, mtimeMs: 5 };
  assert.deepEqual(statVerdict(start, { size: 10, mtimeMs: 5 }), { kind: 'same' });
  assert.deepEqual(statVerdict(start, { size: 4, mtimeMs: 5 }), {
    kind: 'changed',
    why: 'its size changed from 10 to 4 bytes',
  });
  assert.deepEqual(statVerdict(start, { size: 10, mtimeMs: 6 }), {
    kind: 'changed',
    why: 'it was modified',
  });
});
