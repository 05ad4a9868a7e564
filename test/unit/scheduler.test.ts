import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Claim } from '../../src/client/engine/claim.js';
import { Scheduler } from '../../src/client/engine/scheduler.js';

const KiB = 1024;

function scheduler(limit = 4, minBytes = 16 * KiB): Scheduler {
  return new Scheduler({ limit, minBytes, graceMs: 3_000 });
}

test('Scheduler.plan() splits the missing bytes into one segment per connection', () => {
  const s = scheduler(4);
  s.plan(256 * KiB, [{ start: 0, end: 64 * KiB }]);
  // 192 KiB missing: halved, then the largest half halved again, until there are four.
  assert.deepEqual(s.pooled, [
    { start: 64 * KiB, end: 112 * KiB },
    { start: 112 * KiB, end: 160 * KiB },
    { start: 160 * KiB, end: 208 * KiB },
    { start: 208 * KiB, end: 256 * KiB },
  ]);
});

test('Scheduler.claimAt() takes the segment an open response serves, else the first', () => {
  const s = scheduler(2);
  s.plan(128 * KiB, []);
  const claim = s.claimAt(64 * KiB) as Claim;
  assert.deepEqual([claim.cursor, claim.end], [64 * KiB, 128 * KiB]);
  assert.deepEqual(s.pooled, [{ start: 0, end: 64 * KiB }]);
  assert.equal(s.activeCount, 1);
  const other = s.claimAt(12_345) as Claim;
  assert.deepEqual([other.cursor, other.end], [0, 64 * KiB]);
  assert.equal(s.claimAt(0), undefined);
});

test('Scheduler.take() hands out pooled segments in order, then steals half of the largest remainder', () => {
  const s = scheduler(2);
  s.plan(128 * KiB, []);
  const a = s.take() as Claim;
  const b = s.take() as Claim;
  assert.deepEqual([a.cursor, a.end, b.cursor, b.end], [0, 64 * KiB, 64 * KiB, 128 * KiB]);
  // a finishes; b has written 16 KiB and reserved 8 more: the steal splits above the reservation.
  a.advance(64 * KiB);
  s.release(a);
  b.advance(80 * KiB);
  b.reserved = 88 * KiB;
  const stolen = s.take() as Claim;
  assert.deepEqual([stolen.cursor, stolen.end], [108 * KiB, 128 * KiB]);
  assert.equal(b.end, 108 * KiB, 'the victim stops where the thief starts');
  assert.equal(s.races, 0);
});

test('Scheduler.take() races the remainder expected to finish last once nothing can be split', () => {
  const s = scheduler(2, 64 * KiB);
  s.plan(128 * KiB, []);
  const fast = s.take() as Claim;
  const slow = s.take() as Claim;
  fast.advance(64 * KiB);
  s.release(fast);
  // 40 KiB left is below 2 × minBytes: no steal. Before a second of samples, no race either.
  slow.advance(88 * KiB);
  assert.equal(s.take(), undefined);
  assert.equal(s.raceable, true, 'an idle connection stays to race it');
  slow.received = 24 * KiB;
  s.sampleSpeeds(0);
  slow.received = 26 * KiB;
  s.sampleSpeeds(1_000); // 2 KiB/s: 20 s left
  const racer = s.take() as Claim;
  assert.deepEqual([racer.cursor, racer.end], [slow.cursor, slow.end]);
  assert.equal(racer.rival, slow);
  assert.equal(slow.rival, racer);
  assert.equal(s.races, 1);
  assert.equal(s.take(), undefined, 'a raced remainder is never raced again');
  assert.equal(s.raceable, false);
});

test('Claim.overtake() stops the rival once the racer has caught up with it', () => {
  const s = scheduler(2, 64 * KiB);
  s.plan(128 * KiB, [{ start: 0, end: 64 * KiB }]);
  const slow = s.take() as Claim;
  slow.advance(100 * KiB);
  slow.received = 1;
  s.sampleSpeeds(0);
  slow.received = 2;
  s.sampleSpeeds(1_000);
  const racer = s.take() as Claim;
  let stopped = false;
  slow.stop = () => {
    stopped = true;
  };
  racer.advance(110 * KiB);
  racer.overtake();
  assert.equal(stopped, true);
  assert.equal(slow.end, 100 * KiB, 'the rival keeps what it wrote and wants nothing more');
  assert.equal(racer.rival, undefined);
  assert.equal(slow.rival, undefined);
});

test('Claim.overtake(): the raced claim writing before the racer has a byte does not stop it', () => {
  const s = scheduler(2, 64 * KiB);
  s.plan(128 * KiB, [{ start: 0, end: 64 * KiB }]);
  const slow = s.take() as Claim;
  slow.advance(100 * KiB);
  slow.received = 1;
  s.sampleSpeeds(0);
  slow.received = 2;
  s.sampleSpeeds(1_000);
  const racer = s.take() as Claim;
  let racerStopped = false;
  let slowStopped = false;
  racer.stop = () => {
    racerStopped = true;
  };
  slow.stop = () => {
    slowStopped = true;
  };
  // The slow connection's next chunk lands while the racer's request is on its way.
  slow.advance(104 * KiB);
  slow.overtake();
  assert.equal(racerStopped, false, 'the racer keeps racing');
  assert.equal(racer.end, 128 * KiB);
  assert.equal(racer.rival, slow);
  // The racer's first chunk catches up: now the slow connection stops.
  racer.advance(116 * KiB);
  racer.overtake();
  assert.equal(slowStopped, true);
  assert.equal(slow.end, 104 * KiB);
  assert.equal(racer.end, 128 * KiB);
});

test('Claim.overtake(): the raced claim stops the racer by finishing first', () => {
  const s = scheduler(2, 64 * KiB);
  s.plan(128 * KiB, [{ start: 0, end: 64 * KiB }]);
  const slow = s.take() as Claim;
  slow.advance(100 * KiB);
  slow.received = 1;
  s.sampleSpeeds(0);
  slow.received = 2;
  s.sampleSpeeds(1_000);
  const racer = s.take() as Claim;
  let racerStopped = false;
  racer.stop = () => {
    racerStopped = true;
  };
  slow.advance(110 * KiB);
  slow.overtake();
  racer.advance(104 * KiB);
  racer.overtake(); // still behind
  assert.equal(racerStopped, false);
  slow.advance(128 * KiB);
  slow.overtake();
  assert.equal(racerStopped, true);
  assert.equal(racer.end, 104 * KiB, 'the racer keeps what it wrote and wants nothing more');
  assert.equal(racer.rival, undefined);
});

test('Scheduler.refuse() gives the rest back to the pool and lowers the limit', () => {
  const s = scheduler(3);
  s.plan(192 * KiB, []); // [0, 48 KiB), [48 KiB, 96 KiB), [96 KiB, 192 KiB)
  s.take();
  const refused = s.take() as Claim;
  refused.advance(64 * KiB);
  s.refuse(refused);
  assert.equal(s.limit, 2);
  assert.equal(refused.end, 64 * KiB);
  assert.equal(s.activeCount, 1);
  assert.deepEqual(s.pooled, [
    { start: 64 * KiB, end: 96 * KiB },
    { start: 96 * KiB, end: 192 * KiB },
  ]);
  const one = scheduler(1);
  one.plan(64 * KiB, []);
  one.refuse(one.take() as Claim);
  assert.equal(one.limit, 1, 'never below one connection');
});

test('Scheduler.sampleSpeeds() reconnects a connection far slower than the others after the grace', () => {
  const s = scheduler(3, 16 * KiB);
  s.plan(3 * 1024 * KiB, []);
  const claims = [s.take(), s.take(), s.take()] as Claim[];
  for (const c of claims) c.stop = () => undefined;
  const [a, b, slow] = claims as [Claim, Claim, Claim];
  const at = (ms: number, bytes: [number, number, number]) => {
    a.received = bytes[0];
    b.received = bytes[1];
    slow.received = bytes[2];
    return s.sampleSpeeds(ms);
  };
  assert.deepEqual(at(0, [0, 0, 0]), []);
  assert.deepEqual(at(1_000, [100 * KiB, 100 * KiB, 1 * KiB]), [], 'slow from now on');
  assert.deepEqual(at(3_000, [300 * KiB, 300 * KiB, 3 * KiB]), [], 'within the grace');
  assert.deepEqual(at(4_000, [400 * KiB, 400 * KiB, 4 * KiB]), [{ claim: slow, restarts: 1 }]);
  assert.equal(slow.takeRestart(), true, 'its next failure reopens at once');
  assert.equal(slow.takeRestart(), false);
  // Measured afresh: a second of samples again before it can be judged slow.
  assert.deepEqual(at(5_000, [500 * KiB, 500 * KiB, 5 * KiB]), []);
  assert.deepEqual(at(6_000, [600 * KiB, 600 * KiB, 6 * KiB]), [], 'slow again from now on');
});

test('Scheduler.nextChange() resolves when a claim is released, before its timer', async () => {
  const s = scheduler(2);
  s.plan(128 * KiB, []);
  const claim = s.take() as Claim;
  let fired: (() => void) | undefined;
  let cancelled = false;
  const waiting = s.nextChange(60_000, (fn) => {
    fired = fn;
    return () => {
      cancelled = true;
    };
  });
  assert.ok(fired !== undefined);
  s.release(claim);
  await waiting;
  assert.equal(cancelled, true, 'the timer is cleared');
});
