/**
 * The engine without sockets: `DownloadLoop` over an in-memory transport, with a fake sleep (no
 * retry wait is real) and real files in a temporary folder. Real sockets are tested beside these,
 * in test/integration/get.*.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DownloadLoop } from '../../src/client/engine/download-loop.js';
import type { DownloadOptions } from '../../src/client/types.js';
import { HttpStatusError } from '../../src/errors.js';
import { bytes } from '../helpers/bytes.js';
import {
  type MemoryOrigin,
  memoryOrigin,
  type Script,
  type SeenRequest,
} from '../helpers/memory-transport.js';
import { waitFor } from '../helpers/wait.js';

const KiB = 1024;
const URL = 'http://origin.test/file.bin';

async function folder(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-loop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a download over `origin`; every retry wait is recorded instead of slept. */
function run(origin: MemoryOrigin, options: DownloadOptions) {
  const slept: number[] = [];
  const notices: string[] = [];
  const loop = new DownloadLoop(
    URL,
    { onNotice: (m) => notices.push(m), ...options },
    {
      transport: origin.transport,
      sleep: async (ms) => {
        slept.push(ms);
      },
      boot: 'boot-1',
    },
  );
  return { done: loop.start(), slept, notices, loop };
}

test('DownloadLoop fetches one segment per connection and renames the finished file', async (t) => {
  const dir = await folder(t);
  const data = bytes(256 * KiB);
  const origin = memoryOrigin(data);
  const out = join(dir, 'out.bin');
  const { done } = run(origin, { output: out, connections: 4, minSegment: 16 * KiB });
  const result = await done;
  assert.deepEqual(await readFile(out), data);
  assert.equal(result.size, data.length);
  assert.equal(result.fetchedBytes, data.length);
  assert.deepEqual(await readdir(dir), ['out.bin'], 'no part file or journal is left');
  const starts = origin.requests.map((r) => r.range?.start).sort((a, b) => (a ?? 0) - (b ?? 0));
  // The probe (bytes=0-) serves the first segment; one request each for the other three.
  assert.deepEqual(starts, [0, 64 * KiB, 128 * KiB, 192 * KiB]);
  assert.ok(
    origin.requests.slice(1).every((r) => r.ifRange === '"v1"'),
    'every segment request carries If-Range',
  );
});

test('DownloadLoop: an idle connection steals half of a stuck segment', async (t) => {
  const dir = await folder(t);
  const data = bytes(256 * KiB, 3);
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const stolen = (r: SeenRequest) => r.range !== undefined && r.range.start > 192 * KiB;
  const origin = memoryOrigin(data, {
    // The last segment sends 16 KiB, then nothing until another connection has stolen from it.
    script: (r): Script =>
      r.range?.start === 192 * KiB ? { holdAt: 208 * KiB, release: released } : undefined,
  });
  void origin.waitForRequest(stolen).then(() => release());
  const out = join(dir, 'out.bin');
  await run(origin, { output: out, connections: 4, minSegment: 16 * KiB }).done;
  assert.deepEqual(await readFile(out), data);
  const thief = origin.requests.find(stolen);
  // Half of what was left: above the 16 KiB held, [208 KiB + 24 KiB, 256 KiB) (or, had the
  // steal come before that chunk was written, [192 KiB + 32 KiB, 256 KiB)).
  assert.equal(thief?.range?.end, 256 * KiB);
  assert.ok([224 * KiB, 232 * KiB].includes(thief?.range?.start ?? 0), `${thief?.range?.start}`);
});

test("DownloadLoop: a racer whose first byte comes after the slow connection's next one still takes the tail", async (t) => {
  const dir = await folder(t);
  const data = bytes(256 * KiB, 9);
  // Two 128 KiB segments, too small to split with 64 KiB minimum: only a race can help the slow
  // one. The probe (bytes=0-) serves [0, 128 KiB): 16 KiB, then nothing until the racer asks;
  // then one more chunk, then nothing while the racer's response is open (slow, not stalled). The
  // racer's first chunk waits until that chunk is written, as a request a round trip behind a
  // slow connection's next packet does on a loaded machine.
  const isRacer = (r: SeenRequest) => r.n > 1 && r.range?.start === 16 * KiB;
  let racerBehind!: () => void;
  const slowAhead = new Promise<void>((resolve) => {
    racerBehind = resolve;
  });
  const origin = memoryOrigin(data, {
    script: (r): Script => {
      if (r.n === 1) {
        return {
          gate: (at) => {
            if (at === 16 * KiB) return origin.waitForRequest(isRacer).then(() => undefined);
            if (at !== 32 * KiB) return undefined;
            racerBehind(); // the chunk [16 KiB, 32 KiB) is written
            const racer = origin.requests.find(isRacer);
            return waitFor('the racer to end', () => racer?.ended).then(() => undefined);
          },
        };
      }
      if (isRacer(r)) return { gate: (at) => (at === 16 * KiB ? slowAhead : undefined) };
      return undefined;
    },
  });
  // A clock that runs ahead, so that the stalled connection's speed is measured at the first
  // speed ticks.
  let clock = 0;
  const out = join(dir, 'out.bin');
  const result = await run(origin, {
    output: out,
    connections: 2,
    minSegment: 64 * KiB,
    now: () => (clock += 100),
  }).done;
  assert.deepEqual(await readFile(out), data);
  const slow = origin.requests[0];
  const racer = origin.requests.find(isRacer);
  const ranges = origin.requests.map((r) => `${r.range?.start}-${r.range?.end}: ${r.sent}`);
  assert.deepEqual(racer?.range, { start: 16 * KiB, end: 128 * KiB }, ranges.join(', '));
  assert.equal(racer?.finished, true, `the racer fetched the remainder: ${ranges.join(', ')}`);
  assert.equal(slow?.sent, 32 * KiB, 'the slow connection stopped where the racer caught up');
  assert.equal(slow?.finished, false);
  // What racing cost: the chunk both wrote.
  assert.equal(result.fetchedBytes, data.length + 16 * KiB);
});

test('DownloadLoop: a connection reset mid-body is retried from the byte it reached', async (t) => {
  const dir = await folder(t);
  const data = bytes(256 * KiB, 5);
  let resets = 0;
  const origin = memoryOrigin(data, {
    script: (r): Script => {
      if (r.range?.start === 64 * KiB && resets++ === 0) return { resetAt: 80 * KiB };
      return undefined;
    },
  });
  const out = join(dir, 'out.bin');
  const { done, slept, notices } = run(origin, {
    output: out,
    connections: 4,
    minSegment: 16 * KiB,
    random: () => 0,
  });
  await done;
  assert.deepEqual(await readFile(out), data);
  assert.equal(
    origin.requests.filter((r) => r.range?.start === 80 * KiB).length,
    1,
    'asked again from byte 80 KiB',
  );
  assert.equal(slept.length, 1, 'one retry, waited on the fake clock');
  assert.ok(notices.some((m) => /connection reset; retrying in .* \(1\/10\)$/.test(m)));
});

test('DownloadLoop: the probe waits Retry-After, then gives up after the retries', async (t) => {
  const dir = await folder(t);
  const data = bytes(64 * KiB);
  const busy = memoryOrigin(data, {
    script: (r): Script =>
      r.n <= 2 ? { status: 503, headers: { 'retry-after': '7' } } : undefined,
  });
  const first = run(busy, { output: join(dir, 'a.bin') });
  await first.done;
  assert.deepEqual(first.slept, [7_000, 7_000], 'Retry-After, on the fake clock');
  assert.deepEqual(await readFile(join(dir, 'a.bin')), data);

  const down = memoryOrigin(data, { script: (): Script => ({ status: 503 }) });
  const second = run(down, { output: join(dir, 'b.bin'), retries: 2, random: () => 0 });
  await assert.rejects(second.done, (e: unknown) => {
    assert.ok(e instanceof HttpStatusError);
    assert.equal(e.status, 503);
    assert.match(e.message, /answered 503 Error \(after 2 retries\)$/);
    return true;
  });
  assert.equal(second.slept.length, 2);
  assert.equal(down.requests.length, 3);
});

test('DownloadLoop: a pause during a probe retry wait stops with the journal kept, and resumes', async (t) => {
  const dir = await folder(t);
  const data = bytes(64 * KiB);
  const origin = memoryOrigin(data, {
    script: (r): Script => (r.n === 1 ? { status: 503 } : undefined),
  });
  const states: string[] = [];
  let loop!: DownloadLoop;
  let resumed = false;
  loop = new DownloadLoop(
    URL,
    {
      output: join(dir, 'c.bin'),
      onProgress: (p) => {
        states.push(p.state);
        if (p.state === 'paused' && !resumed) {
          resumed = true;
          loop.resume();
        }
      },
    },
    {
      transport: origin.transport,
      // The pause arrives while the engine waits to retry.
      sleep: async (_ms, signal) => {
        loop.pause();
        assert.equal(signal.aborted, true);
      },
      boot: 'boot-1',
    },
  );
  await loop.start();
  assert.deepEqual(await readFile(join(dir, 'c.bin')), data);
  assert.ok(states.includes('paused'), states.join());
});

test('DownloadLoop ends with a done event that carries the finished size, not zeros', async (t) => {
  const dir = await folder(t);
  const data = bytes(64 * KiB);
  const events: { state: string; bytes: number; total: number | undefined }[] = [];
  const { done } = run(memoryOrigin(data), {
    output: join(dir, 'out.bin'),
    onProgress: (p) => events.push({ state: p.state, bytes: p.bytes, total: p.total }),
  });
  await done;
  assert.deepEqual(events.at(-1), { state: 'done', bytes: data.length, total: data.length });
});
