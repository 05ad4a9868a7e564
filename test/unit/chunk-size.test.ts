import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ChunkSizing,
  chunkWithin,
  DEFAULT_CHUNK_SIZING,
  firstChunkSize,
  fixedChunkSizing,
  sizeAfterAppend,
  sizingAfterTooLarge,
  withServerLimits,
} from '../../src/core/upload/chunk-size.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const D = DEFAULT_CHUNK_SIZING;

test('the default sizing starts at 8 MiB, grows to 512 MiB, and a 413 halves it down to 256 KiB', () => {
  assert.deepEqual(D, { start: 8 * MiB, max: 512 * MiB, floor: 256 * KiB, grows: true });
  assert.equal(firstChunkSize(D), 8 * MiB);
});

// [size, bytes sent, ms, sizing, next size, why]: the next request carries what the measured rate
// carries in CHUNK_TARGET_MS (1 s), in steps of `start`.
const appends: [number, number, number, ChunkSizing, number, string][] = [
  [8 * MiB, 8 * MiB, 25, D, 320 * MiB, 'loopback (8 MiB in 25 ms): 320 MiB'],
  [8 * MiB, 8 * MiB, 10, D, 512 * MiB, 'faster still: at most max'],
  [8 * MiB, 8 * MiB, 500, D, 16 * MiB, '16 MiB/s: 16 MiB'],
  [8 * MiB, 8 * MiB, 700, D, 8 * MiB, '11.4 MiB/s: down to a step of start, 8 MiB'],
  [320 * MiB, 320 * MiB, 4000, D, 80 * MiB, 'slowed down (80 MiB/s): what a second carries'],
  [64 * MiB, 64 * MiB, 60_000, D, 8 * MiB, 'crawling: never below start'],
  [512 * MiB, 512 * MiB, 800, D, 512 * MiB, 'at max: stays'],
  [16 * MiB, 3 * MiB, 1, D, 16 * MiB, "the file's end (a short request): says nothing, stays"],
  [8 * MiB, 8 * MiB, 0, D, 512 * MiB, 'no measurable time: max'],
  [MiB, MiB, 1, fixedChunkSizing(MiB), MiB, 'a fixed size never grows'],
  [
    MiB,
    MiB,
    1,
    { ...D, max: MiB, start: MiB },
    MiB,
    'a max lowered by a 413 or max-append-size holds',
  ],
  [
    2 * MiB,
    2 * MiB,
    100,
    { ...D, max: 16 * MiB, start: 2 * MiB },
    16 * MiB,
    'in steps of a lowered start, up to the lowered max',
  ],
];
for (const [size, bytes, ms, sizing, expected, why] of appends) {
  test(`sizeAfterAppend(${size}, ${bytes} B in ${ms} ms) = ${expected}: ${why}`, () => {
    assert.equal(sizeAfterAppend(size, { bytes, ms }, sizing), expected);
  });
}

// draft-12 §Limits: "Clients could deal with such situations by retrying an upload append using a
// smaller size"; a 413 at the least size "might indicate a deployment mismatch that cannot be
// recovered from".
const refusals: [number, ChunkSizing, Partial<ChunkSizing> | undefined][] = [
  [32 * MiB, D, { max: 16 * MiB, start: 8 * MiB }],
  [8 * MiB, D, { max: 4 * MiB, start: 4 * MiB }],
  [300 * KiB, D, { max: 256 * KiB, start: 256 * KiB }],
  [256 * KiB, D, undefined],
  [100 * KiB, D, undefined],
  [4 * MiB, fixedChunkSizing(4 * MiB), { max: 2 * MiB, start: 2 * MiB }],
  [MiB, fixedChunkSizing(MiB, MiB), undefined],
];
for (const [size, sizing, expected] of refusals) {
  test(`sizingAfterTooLarge(${size}) ${expected === undefined ? 'stands' : `lowers max to ${expected.max}`}`, () => {
    const after = sizingAfterTooLarge(size, sizing);
    if (expected === undefined) assert.equal(after, undefined);
    else assert.deepEqual(after, { ...sizing, ...expected });
  });
}

test('a size the user chose below the floor stays (the floor follows it down)', () => {
  const s = fixedChunkSizing(64 * KiB);
  assert.equal(s.floor, 64 * KiB);
  assert.equal(firstChunkSize(s), 64 * KiB);
  assert.equal(sizingAfterTooLarge(64 * KiB, s), undefined);
});

// draft-12 §Limits: `max-append-size` and `min-append-size` bound every append.
const limits: [{ minAppend?: number; maxAppend?: number }, Partial<ChunkSizing>][] = [
  [{}, {}],
  [{ maxAppend: 4 * MiB }, { max: 4 * MiB, start: 4 * MiB }],
  [{ maxAppend: 100 * KiB }, { max: 100 * KiB, start: 100 * KiB, floor: 100 * KiB }],
  [{ minAppend: 16 * MiB }, { floor: 16 * MiB, start: 16 * MiB }],
  [
    { minAppend: MiB, maxAppend: 2 * MiB },
    { max: 2 * MiB, start: 2 * MiB, floor: MiB },
  ],
  [
    { minAppend: 4 * MiB, maxAppend: 2 * MiB },
    { max: 2 * MiB, start: 2 * MiB },
  ],
  [{ maxAppend: 0 }, {}],
  [{ maxAppend: -5, minAppend: 1.5 }, {}],
];
for (const [given, expected] of limits) {
  test(`withServerLimits(${JSON.stringify(given)})`, () => {
    assert.deepEqual(withServerLimits(D, given), { ...D, ...expected });
  });
}

test('chunkWithin() keeps a size between floor and max', () => {
  assert.equal(chunkWithin(900 * MiB, D), 512 * MiB);
  assert.equal(chunkWithin(KiB, D), 256 * KiB);
  assert.equal(chunkWithin(5 * MiB, D), 5 * MiB);
});
