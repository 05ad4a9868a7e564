import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addSpan,
  connectionsFor,
  endsRace,
  heldPrefix,
  type IdleAction,
  idleAction,
  missingSpans,
  normalizeSpans,
  planSegments,
  type RaceSide,
  type RunningSegment,
  type Span,
  type SpeedRecord,
  slowSegments,
  spanBytes,
  splitLargest,
} from '../../src/core/segments.js';

const s = (start: number, end: number): Span => ({ start, end });

const addCases: [string, Span[], Span, Span[]][] = [
  ['into an empty list', [], s(0, 10), [s(0, 10)]],
  ['before a span', [s(20, 30)], s(0, 10), [s(0, 10), s(20, 30)]],
  ['after a span', [s(0, 10)], s(20, 30), [s(0, 10), s(20, 30)]],
  ['merging an adjacent span', [s(0, 10)], s(10, 20), [s(0, 20)]],
  ['merging an overlap', [s(0, 10)], s(5, 15), [s(0, 15)]],
  ['bridging two spans', [s(0, 10), s(20, 30)], s(10, 20), [s(0, 30)]],
  ['inside a span', [s(0, 30)], s(5, 6), [s(0, 30)]],
  ['covering several spans', [s(5, 6), s(8, 9), s(40, 50)], s(0, 10), [s(0, 10), s(40, 50)]],
  ['empty (no change)', [s(0, 10)], s(3, 3), [s(0, 10)]],
];
for (const [name, spans, span, expected] of addCases) {
  test(`addSpan() adds ${name}`, () => {
    assert.deepEqual(addSpan(spans, span), expected);
  });
}

test('addSpan() rejects a span whose end is before its start', () => {
  assert.throws(() => addSpan([], s(5, 4)), RangeError);
  assert.throws(() => addSpan([], s(-1, 4)), RangeError);
});

test('normalizeSpans() sorts and merges', () => {
  assert.deepEqual(normalizeSpans([s(20, 30), s(0, 5), s(5, 10), s(25, 40)]), [
    s(0, 10),
    s(20, 40),
  ]);
});

const missingCases: [Span[], number, Span[]][] = [
  [[], 100, [s(0, 100)]],
  [[s(0, 100)], 100, []],
  [[s(0, 10)], 100, [s(10, 100)]],
  [[s(10, 20), s(50, 60)], 100, [s(0, 10), s(20, 50), s(60, 100)]],
  [[s(90, 100)], 100, [s(0, 90)]],
  [[], 0, []],
];
for (const [done, size, expected] of missingCases) {
  test(`missingSpans() of ${JSON.stringify(done)} in ${size} bytes`, () => {
    assert.deepEqual(missingSpans(done, size), expected);
    assert.equal(spanBytes(expected) + spanBytes(normalizeSpans(done)), size);
  });
}

test('heldPrefix() is the run of bytes from 0', () => {
  assert.equal(heldPrefix([]), 0);
  assert.equal(heldPrefix([s(0, 10), s(20, 30)]), 10);
  assert.equal(heldPrefix([s(5, 10)]), 0);
});

const planCases: [string, number, Parameters<typeof planSegments>[1], Span[]][] = [
  [
    'splits a file into equal segments',
    100,
    { connections: 4, minBytes: 10 },
    [s(0, 25), s(25, 50), s(50, 75), s(75, 100)],
  ],
  ['keeps one segment for one connection', 100, { connections: 1, minBytes: 10 }, [s(0, 100)]],
  ['stops splitting at minBytes', 30, { connections: 4, minBytes: 10 }, [s(0, 15), s(15, 30)]],
  [
    'does not split a file smaller than 2 × minBytes',
    19,
    { connections: 4, minBytes: 10 },
    [s(0, 19)],
  ],
  ['rounds the split point up', 101, { connections: 2, minBytes: 10 }, [s(0, 51), s(51, 101)]],
  [
    'plans only the missing bytes',
    100,
    { connections: 2, minBytes: 10, done: [s(0, 50)] },
    [s(50, 75), s(75, 100)],
  ],
  [
    'splits the largest gap first',
    100,
    { connections: 3, minBytes: 5, done: [s(10, 20)] },
    [s(0, 10), s(20, 60), s(60, 100)],
  ],
  ['plans nothing when all is held', 100, { connections: 4, minBytes: 10, done: [s(0, 100)] }, []],
  ['plans nothing for an empty file', 0, { connections: 4 }, []],
];
for (const [name, size, options, expected] of planCases) {
  test(`planSegments() ${name}`, () => {
    const plan = planSegments(size, options);
    assert.deepEqual(plan, expected);
    // The plan and the held bytes together cover the file exactly once.
    assert.deepEqual(
      normalizeSpans([...plan, ...(options?.done ?? [])]),
      size === 0 ? [] : [s(0, size)],
    );
  });
}

test('planSegments() rejects bad arguments', () => {
  assert.throws(() => planSegments(-1), RangeError);
  assert.throws(() => planSegments(10, { connections: 0 }), RangeError);
  assert.throws(() => planSegments(10, { minBytes: 0 }), RangeError);
});

const splitCases: [
  string,
  { cursor: number; end: number }[],
  number,
  ReturnType<typeof splitLargest>,
][] = [
  [
    'halves the largest remainder',
    [
      { cursor: 0, end: 100 },
      { cursor: 150, end: 200 },
    ],
    10,
    { index: 0, at: 50 },
  ],
  [
    'measures from the cursor, not the start',
    [
      { cursor: 90, end: 100 },
      { cursor: 120, end: 200 },
    ],
    10,
    { index: 1, at: 160 },
  ],
  ['rounds the split point up', [{ cursor: 0, end: 101 }], 10, { index: 0, at: 51 }],
  ['leaves a tail shorter than 2 × minBytes', [{ cursor: 0, end: 19 }], 10, undefined],
  ['splits exactly 2 × minBytes', [{ cursor: 0, end: 20 }], 10, { index: 0, at: 10 }],
  ['finds nothing with no active segment', [], 10, undefined],
];
for (const [name, active, minBytes, expected] of splitCases) {
  test(`splitLargest() ${name}`, () => {
    assert.deepEqual(splitLargest(active, { minBytes }), expected);
  });
}

const KiB = 1024;
const seg = (
  cursor: number,
  end: number,
  bytesPerSecond: number | undefined,
  raced = false,
): RunningSegment => ({ cursor, end, bytesPerSecond, raced });

const idleCases: [string, RunningSegment[], IdleAction][] = [
  [
    'steals half of the largest remainder',
    [seg(0, 1000 * KiB, 100)],
    { kind: 'steal', index: 0, at: 500 * KiB },
  ],
  [
    'races the remainder expected to finish last when none can be split',
    [seg(0, 200 * KiB, 10 * 1024 * KiB), seg(300 * KiB, 400 * KiB, 32 * KiB)],
    { kind: 'race', index: 1 },
  ],
  [
    'counts a stalled connection (0 bytes/s) as slowest',
    [seg(0, 200 * KiB, 32 * KiB), seg(300 * KiB, 310 * KiB, 0)],
    { kind: 'race', index: 1 },
  ],
  [
    'leaves a segment whose speed is not measured yet',
    [seg(0, 200 * KiB, 1 * KiB), seg(300 * KiB, 310 * KiB, undefined)],
    { kind: 'race', index: 0 },
  ],
  [
    'neither splits nor races a raced segment',
    [seg(0, 10_000 * KiB, 1, true), seg(20_000 * KiB, 20_100 * KiB, 1_000 * KiB)],
    { kind: 'none' },
  ],
  [
    'steals from an unraced segment next to a raced one',
    [seg(0, 10_000 * KiB, 1, true), seg(20_000 * KiB, 21_000 * KiB, 1)],
    { kind: 'steal', index: 1, at: 20_500 * KiB },
  ],
  ['does not race a remainder about to finish', [seg(0, 100 * KiB, 1_000 * KiB)], { kind: 'none' }],
  ['does nothing when all is fetched', [seg(100, 100, 5)], { kind: 'none' }],
  ['does nothing with no segment', [], { kind: 'none' }],
];
for (const [name, active, expected] of idleCases) {
  test(`idleAction() ${name}`, () => {
    assert.deepEqual(idleAction(active, { minBytes: 128 * KiB, minRaceMs: 500 }), expected);
  });
}

const racer = (cursor: number, end = 1000): RaceSide => ({ cursor, end, racer: true });
const raced = (cursor: number, end = 1000): RaceSide => ({ cursor, end, racer: false });

const raceCases: [string, RaceSide, RaceSide, boolean][] = [
  // The race starts with both at 100; the raced connection writes before the racer's first byte.
  [
    'the raced connection ahead of a racer that has no byte yet goes on',
    raced(104),
    racer(100),
    false,
  ],
  [
    'the raced connection ahead of a racer that is catching up goes on',
    raced(300),
    racer(250),
    false,
  ],
  ['the raced connection level with the racer goes on', raced(300), racer(300), false],
  ['the raced connection that finishes stops the racer', raced(1000), racer(600), true],
  ['the racer still behind goes on', racer(250), raced(300), false],
  ['the racer that catches up stops the raced connection', racer(300), raced(300), true],
  ['the racer that gets ahead stops the raced connection', racer(400), raced(300), true],
  ['the racer that finishes stops the raced connection', racer(1000), raced(990), true],
];
for (const [name, writer, rival, expected] of raceCases) {
  test(`endsRace(): ${name}`, () => {
    assert.equal(endsRace(writer, rival), expected);
  });
}

const rec = (bytesPerSecond: number | undefined, slowSince?: number, left = MiB): SpeedRecord => ({
  bytesPerSecond,
  left,
  slowSince,
});
const MiB = 1024 * KiB;

const slowCases: [string, SpeedRecord[], number, (number | undefined)[], number[]][] = [
  [
    'marks a connection below 0.3x the median of the others',
    [rec(10 * MiB), rec(10 * MiB), rec(2 * MiB)],
    1_000,
    [undefined, undefined, 1_000],
    [],
  ],
  [
    'restarts it once it stayed slow for the grace period',
    [rec(10 * MiB), rec(10 * MiB), rec(2 * MiB, 1_000)],
    4_000,
    [undefined, undefined, 1_000],
    [2],
  ],
  [
    'forgets a connection that sped up',
    [rec(10 * MiB), rec(10 * MiB), rec(5 * MiB, 1_000)],
    4_000,
    [undefined, undefined, undefined],
    [],
  ],
  [
    'needs two others to compare with',
    [rec(10 * MiB), rec(KiB, 0)],
    9_000,
    [undefined, undefined],
    [],
  ],
  [
    'ignores unmeasured connections',
    [rec(10 * MiB), rec(undefined), rec(KiB, 0)],
    9_000,
    [undefined, undefined, undefined],
    [],
  ],
  [
    'never restarts for a small remainder',
    [rec(10 * MiB), rec(10 * MiB), rec(KiB, 0, 10 * KiB)],
    9_000,
    [undefined, undefined, undefined],
    [],
  ],
];
for (const [name, records, now, slowSince, restart] of slowCases) {
  test(`slowSegments() ${name}`, () => {
    assert.deepEqual(
      slowSegments(records, { now, graceMs: 3_000, ratio: 0.3, minBytes: 256 * KiB }),
      {
        slowSince,
        restart,
      },
    );
  });
}

const connectionCases: [number, number | undefined, number][] = [
  [4 * 1024 * 1024, undefined, 4],
  [4 * 1024 * 1024 - 1, undefined, 1],
  [0, undefined, 1],
  [100, 8, 8],
  [10 * 1024 * 1024, 2, 2],
];
for (const [size, requested, expected] of connectionCases) {
  test(`connectionsFor() gives ${expected} for ${size} bytes when ${requested ?? 'nothing'} is asked`, () => {
    assert.equal(connectionsFor(size, requested), expected);
  });
}
