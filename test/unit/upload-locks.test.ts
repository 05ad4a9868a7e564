import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalLocks, type Release } from '../../src/server/uploads/locks.js';

/** Whether `promise` has settled after the microtasks and one macrotask turn. */
async function settled<T>(promise: Promise<T>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('LocalLocks.acquire() gives a free lock at once', async () => {
  const locks = new LocalLocks();
  const release = await locks.acquire('a', () => assert.fail('nobody to cancel'));
  assert.equal(typeof release, 'function');
  (release as Release)();
});

test('LocalLocks.acquire() cancels the holder and gets the lock after its release', async () => {
  const locks = new LocalLocks();
  let firstCancelled = 0;
  const first = await locks.acquire('a', () => firstCancelled++);
  assert.ok(first);
  const second = locks.acquire('a', () => assert.fail('the second is never cut off'));
  assert.equal(firstCancelled, 1, 'the holder is told at once');
  assert.equal(await settled(second), false, 'the second waits while the first holds');
  first();
  const release = await second;
  assert.equal(typeof release, 'function');
  assert.equal(firstCancelled, 1);
  (release as Release)();
});

test('LocalLocks.acquire() third comer wins; the waiting second loses (undefined)', async () => {
  const locks = new LocalLocks();
  const cancels: string[] = [];
  const first = await locks.acquire('a', () => cancels.push('first'));
  assert.ok(first);
  const second = locks.acquire('a', () => cancels.push('second'));
  const third = locks.acquire('a', () => cancels.push('third'));
  assert.deepEqual(cancels, ['first', 'second']);
  assert.equal(await settled(second), false);
  assert.equal(await settled(third), false);
  first();
  assert.equal(await second, undefined, 'the second lost while it waited');
  const release = await third;
  assert.equal(typeof release, 'function', 'the third holds the lock');
  assert.deepEqual(cancels, ['first', 'second']);
  // Held by the third now: tryAcquire fails until it releases.
  assert.equal(await locks.tryAcquire('a'), undefined);
  (release as Release)();
  const after = await locks.tryAcquire('a');
  assert.equal(typeof after, 'function');
  (after as Release)();
});

test('LocalLocks.tryAcquire() never cancels and fails while held', async () => {
  const locks = new LocalLocks();
  let cancelled = 0;
  const held = await locks.acquire('a', () => cancelled++);
  assert.ok(held);
  assert.equal(await locks.tryAcquire('a'), undefined);
  assert.equal(cancelled, 0, 'the holder was not cut off');
  // Another id is free.
  const other = await locks.tryAcquire('b');
  assert.equal(typeof other, 'function');
  (other as Release)();
  held();
  const now = await locks.tryAcquire('a');
  assert.equal(typeof now, 'function');
  // A lock taken by tryAcquire is cut off like any other by a newer acquire.
  const next = locks.acquire('a', () => {});
  assert.equal(await settled(next), false);
  (now as Release)();
  const nextRelease = await next;
  assert.equal(typeof nextRelease, 'function');
  (nextRelease as Release)();
});

test('LocalLocks release twice is harmless: it never frees a newer holder', async () => {
  const locks = new LocalLocks();
  const first = await locks.acquire('a', () => {});
  assert.ok(first);
  first();
  first();
  let secondCancelled = 0;
  const second = await locks.acquire('a', () => secondCancelled++);
  assert.ok(second);
  // The first's stale release again: the second still holds the lock.
  first();
  assert.equal(await locks.tryAcquire('a'), undefined, 'still held by the second');
  assert.equal(secondCancelled, 0);
  second();
  second();
  const free = await locks.tryAcquire('a');
  assert.equal(typeof free, 'function');
  (free as Release)();
});

test('LocalLocks a waiter that lost leaves the lock free for the winner only', async () => {
  const locks = new LocalLocks();
  const first = await locks.acquire('a', () => {});
  assert.ok(first);
  const waiters = Array.from({ length: 5 }, () => locks.acquire('a', () => {}));
  first();
  const results = await Promise.all(waiters);
  assert.deepEqual(
    results.map((r) => typeof r),
    ['undefined', 'undefined', 'undefined', 'undefined', 'function'],
  );
  assert.equal(await locks.tryAcquire('a'), undefined);
  (results[4] as Release)();
  const free = await locks.tryAcquire('a');
  assert.ok(free);
  free();
});
