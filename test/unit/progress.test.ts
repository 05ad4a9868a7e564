import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addSample, eta, rate, type Sample } from '../../src/core/progress.js';

const rateCases: [string, Sample[], number][] = [
  ['is 0 without samples', [], 0],
  ['is 0 with one sample', [{ time: 0, bytes: 100 }], 0],
  [
    'is 0 when no time passed',
    [
      { time: 5, bytes: 0 },
      { time: 5, bytes: 100 },
    ],
    0,
  ],
  [
    'divides bytes by seconds',
    [
      { time: 0, bytes: 0 },
      { time: 500, bytes: 100 },
      { time: 2000, bytes: 1000 },
    ],
    500,
  ],
  [
    'never goes negative',
    [
      { time: 0, bytes: 100 },
      { time: 1000, bytes: 0 },
    ],
    0,
  ],
];
for (const [name, samples, expected] of rateCases) {
  test(`rate() ${name}`, () => {
    assert.equal(rate(samples), expected);
  });
}

test('addSample() drops samples older than the window but keeps two', () => {
  let samples: Sample[] = [];
  for (let t = 0; t <= 10_000; t += 1000)
    samples = addSample(samples, { time: t, bytes: t }, { window: 3000 });
  assert.deepEqual(
    samples.map((s) => s.time),
    [7000, 8000, 9000, 10_000],
  );
  const quiet = addSample([{ time: 0, bytes: 0 }], { time: 60_000, bytes: 10 }, { window: 3000 });
  assert.equal(quiet.length, 2);
});

const etaCases: [number | undefined, number, number | undefined][] = [
  [undefined, 100, undefined],
  [1000, 0, undefined],
  [0, 0, 0],
  [1000, 100, 10],
  [1001, 100, 11],
  [-5, 100, 0],
];
for (const [remaining, bps, expected] of etaCases) {
  test(`eta() of ${remaining} bytes at ${bps} B/s is ${expected}`, () => {
    assert.equal(eta(remaining, bps), expected);
  });
}
