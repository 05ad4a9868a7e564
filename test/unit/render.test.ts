import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatBytes,
  formatDuration,
  type ProgressView,
  renderBar,
  renderLine,
} from '../../src/cli/render.js';

const byteCases: [number, string][] = [
  [0, '0 B'],
  [1023, '1023 B'],
  [1024, '1.0 KiB'],
  [1536, '1.5 KiB'],
  [10 * 1024 * 1024, '10.0 MiB'],
  [3 * 1024 ** 3, '3.0 GiB'],
];
for (const [n, expected] of byteCases) {
  test(`formatBytes() writes ${n} as ${expected}`, () => {
    assert.equal(formatBytes(n), expected);
  });
}

const durationCases: [number | undefined, string][] = [
  [undefined, '--:--'],
  [Number.POSITIVE_INFINITY, '--:--'],
  [0, '0:00'],
  [5, '0:05'],
  [62, '1:02'],
  [3723, '1:02:03'],
];
for (const [s, expected] of durationCases) {
  test(`formatDuration() writes ${s} s as ${expected}`, () => {
    assert.equal(formatDuration(s), expected);
  });
}

const half: ProgressView = {
  state: 'downloading',
  bytes: 5 * 1024 * 1024,
  total: 10 * 1024 * 1024,
  bytesPerSecond: 1024 * 1024,
  etaSeconds: 5,
  connections: 4,
};

test('renderLine() shows percent, bytes, speed, ETA and connections', () => {
  assert.equal(renderLine(half), '50%  5.0 MiB / 10.0 MiB  1.0 MiB/s  ETA 0:05  4 connections');
});

test('renderLine() leaves out the percent when the size is unknown', () => {
  assert.equal(
    renderLine({ ...half, total: undefined, etaSeconds: undefined, connections: 1 }),
    '5.0 MiB  1.0 MiB/s  ETA --:--  1 connection',
  );
});

test('renderLine() says paused and verifying', () => {
  assert.match(renderLine({ ...half, state: 'paused' }), /paused \(r or Enter resumes\)$/);
  assert.match(renderLine({ ...half, state: 'verifying' }), /verifying$/);
  assert.equal(
    renderLine({ ...half, state: 'done', bytes: 10 * 1024 ** 2, connections: 0 }),
    '100%  10.0 MiB / 10.0 MiB  done',
  );
});

const barCases: [string, ProgressView, number, string][] = [
  [
    'half full',
    half,
    120,
    `[${'#'.repeat(20)}${'.'.repeat(20)}]  50%  5.0 MiB / 10.0 MiB  1.0 MiB/s  ETA 0:05  4 connections`,
  ],
  [
    'empty',
    { ...half, bytes: 0 },
    120,
    `[${'.'.repeat(40)}]   0%  0 B / 10.0 MiB  1.0 MiB/s  ETA 0:05  4 connections`,
  ],
  [
    'full',
    { ...half, bytes: 10 * 1024 * 1024 },
    120,
    `[${'#'.repeat(40)}] 100%  10.0 MiB / 10.0 MiB  1.0 MiB/s  ETA 0:05  4 connections`,
  ],
];
for (const [name, p, width, expected] of barCases) {
  test(`renderBar() draws ${name} at ${width} columns`, () => {
    assert.equal(renderBar(p, { width }), expected);
  });
}

for (const width of [20, 40, 60, 80, 120]) {
  test(`renderBar() never exceeds ${width} columns`, () => {
    assert.ok(renderBar(half, { width }).length <= width);
  });
}

test('renderBar() never passes 100 %', () => {
  assert.match(renderBar({ ...half, bytes: 11 * 1024 * 1024 }, { width: 100 }), /\] 100%/);
});
