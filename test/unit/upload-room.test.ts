import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomVerdict } from '../../src/core/upload/room.js';

const limits = { maxUploads: 3, maxPendingBytes: 1000 };
const cases: [string, { count: number; claimed: number; free: number }, number | undefined][] = [
  ['room', { count: 2, claimed: 1000, free: 5000 }, undefined],
  ['at the count limit: 503', { count: 3, claimed: 0, free: 5000 }, 503],
  ['over the pending bytes: 507', { count: 0, claimed: 1001, free: 5000 }, 507],
  ['more than the free disk: 507', { count: 0, claimed: 900, free: 899 }, 507],
  ['exactly the free disk fits', { count: 0, claimed: 900, free: 900 }, undefined],
];
for (const [name, facts, status] of cases) {
  test(`roomVerdict() ${name}`, () => {
    assert.equal(roomVerdict(facts, limits)?.status, status);
  });
}

test('roomVerdict() without maxPendingBytes is bounded by the disk only, and says why', () => {
  const none = { maxUploads: 10, maxPendingBytes: undefined };
  assert.equal(roomVerdict({ count: 0, claimed: 10 ** 12, free: 10 ** 12 }, none), undefined);
  assert.match(roomVerdict({ count: 10, claimed: 0, free: 1 }, none)?.reason ?? '', /limit is 10/);
});
