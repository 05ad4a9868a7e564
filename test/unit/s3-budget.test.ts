import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PART_SIZE } from '../../src/core/upload/s3-state.js';
import { BufferBudget, MAX_APPEND_BYTES } from '../../src/server/sources/s3-budget.js';

test('BufferBudget: takes in order while they fit, one alone may go past it, an abort leaves', async () => {
  assert.equal(MAX_APPEND_BYTES, 16 * PART_SIZE);
  const budget = new BufferBudget(10);
  const never = new AbortController().signal;
  const a = await budget.take(6, never);
  assert.ok(a !== undefined);
  const order: string[] = [];
  const b = budget.take(6, never).then((r) => {
    order.push('b');
    return r;
  });
  // Smaller, but behind b: waits too (no overtaking).
  const c = budget.take(1, never).then((r) => {
    order.push('c');
    return r;
  });
  const leaving = new AbortController();
  const d = budget.take(1, leaving.signal);
  leaving.abort();
  assert.equal(await d, undefined);
  await Promise.resolve();
  assert.deepEqual(order, []);
  a();
  const [rb, rc] = await Promise.all([b, c]);
  assert.deepEqual(order, ['b', 'c']);
  rb?.();
  rc?.();
  rc?.(); // twice is harmless
  const big = await budget.take(50, never);
  assert.ok(big !== undefined, 'one append with a larger part runs alone');
  big();
});
