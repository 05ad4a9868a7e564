/**
 * Issue 12, "What may never happen": a dead end, and a race between processes. A PATCH that stalls
 * (its socket open, no bytes coming) holds its upload's lock; a newer HEAD or PATCH of the same upload
 * cuts it off at once instead of waiting for it or getting 423, and the stale PATCH keeps what it
 * stored. With `--workers 2` the newcomer may land on the other worker: the lock lives in the
 * primary, and the same rule must hold.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { killServeCli, startServeCli } from '../helpers/cli.js';
import {
  createUpload,
  dataPath,
  headUpload,
  patchUpload,
  type StreamedPatch,
  sizeOf,
  streamPatch,
} from '../helpers/tus-stream.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'race-test-token';
const MiB = 1024 * 1024;
/** The newcomer must be answered well within this (the stale PATCH never answers by itself). */
const NEWCOMER_MS = 5_000;

async function serve(
  t: { after(fn: () => Promise<void> | void): void },
  extra: string[] = [],
): Promise<{ dir: string; origin: string; child: ChildProcess }> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ranged-upload-race-')));
  const { child, url } = await startServeCli(dir, ['--uploads', '--upload-token', TOKEN, ...extra]);
  child.on('error', () => {});
  // The server and its workers go before the folder they write into.
  t.after(async () => {
    await killServeCli(child);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return { dir, origin: url, child };
}

async function writeAll(patch: StreamedPatch, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    await patch.write(data.subarray(at, at + 64 * 1024));
  }
}

/**
 * Starts a PATCH at `offset` that declares the rest of the upload, sends `count` bytes, waits until
 * the server stored nearly all of them (it writes in batches of 256 KiB, so the last part of a
 * stalled body may wait in memory), and then stalls: socket open, nothing more sent. `seen` is the
 * data file's size then, what the stale PATCH had visibly stored.
 */
async function stalledPatch(
  url: string,
  dataFile: string,
  source: Buffer,
  offset: number,
  count: number,
): Promise<{ patch: StreamedPatch; seen: number }> {
  const patch = streamPatch(url, TOKEN, offset, source.length - offset);
  await writeAll(patch, source.subarray(offset, offset + count));
  const seen = await waitFor(`the server storing the stale PATCH's ${count} bytes`, async () => {
    const size = await sizeOf(dataFile);
    return size > offset + count - 512 * 1024 && size;
  });
  assert.equal(patch.ended(), undefined, 'the stale PATCH is still open');
  return { patch, seen };
}

/**
 * The invariants of an offset the server claims after a stale PATCH was cut off: at least what it
 * had visibly stored, at most what it was sent, never beyond the data on disk, and the right bytes.
 */
async function assertClaim(
  claimed: number,
  bounds: { seen: number; sent: number; dataFile: string; source: Buffer },
  what: string,
): Promise<void> {
  assert.ok(
    claimed >= bounds.seen,
    `${what}: offset ${claimed} keeps the ${bounds.seen} bytes stored`,
  );
  assert.ok(
    claimed <= bounds.sent,
    `${what}: offset ${claimed} is no more than the ${bounds.sent} sent`,
  );
  const stored = await readFile(bounds.dataFile);
  assert.ok(
    claimed <= stored.length,
    `${what}: offset ${claimed} is beyond the ${stored.length} bytes on disk`,
  );
  assert.ok(
    stored.subarray(0, claimed).equals(bounds.source.subarray(0, claimed)),
    `${what}: stored bytes`,
  );
}

test('upload: a HEAD cuts off a stalled PATCH at once, which keeps its bytes; a PATCH from there completes', async (t) => {
  const { dir, origin } = await serve(t);
  const source = bytes(16 * MiB, 21);
  const { url, id } = await createUpload(origin, TOKEN, source.length, 'stall/a.bin');
  const dataFile = dataPath(dir, id);
  const { patch: stale, seen } = await stalledPatch(url, dataFile, source, 0, 4 * MiB);

  const started = performance.now();
  const head = await headUpload(url, TOKEN, { timeoutMs: NEWCOMER_MS });
  const elapsed = performance.now() - started;
  assert.ok(elapsed < NEWCOMER_MS, `the HEAD was answered in ${Math.round(elapsed)} ms`);
  assert.equal(head.status, 200);
  await assertClaim(head.offset, { seen, sent: 4 * MiB, dataFile, source }, 'HEAD');
  await waitFor('the stale PATCH cut off', () => stale.closed(), { timeoutMs: NEWCOMER_MS });
  // A stale PATCH cut off is never told it succeeded.
  const ending = stale.ended();
  assert.notEqual(ending, undefined);
  if (ending?.kind === 'response') assert.notEqual(ending.status, 204);
  // The cut-off PATCH stored nothing after the HEAD looked.
  assert.equal((await headUpload(url, TOKEN)).offset, head.offset);

  const rest = await patchUpload(url, TOKEN, head.offset, source.subarray(head.offset));
  assert.equal(rest.status, 204, rest.body);
  assert.equal(rest.headers['upload-offset'], String(source.length));
  const placed = await readFile(join(dir, 'stall/a.bin'));
  assert.ok(placed.equals(source), 'byte-identical');
});

/**
 * A newcomer PATCH that sends the offset the client believes in (everything it sent): 204 when the
 * stale PATCH kept every byte, else 409 with the offset that it did keep. Returns the new offset.
 */
async function newcomerPatch(
  url: string,
  source: Buffer,
  bounds: { seen: number; sent: number; dataFile: string },
  length: number,
  what: string,
): Promise<number> {
  const res = await patchUpload(
    url,
    TOKEN,
    bounds.sent,
    source.subarray(bounds.sent, bounds.sent + length),
  );
  const offset = Number(res.headers['upload-offset']);
  if (res.status === 409) {
    await assertClaim(offset, { ...bounds, source }, `${what} (409)`);
    const again = await patchUpload(
      url,
      TOKEN,
      offset,
      source.subarray(offset, bounds.sent + length),
    );
    assert.equal(again.status, 204, `${what}: ${again.body}`);
    return Number(again.headers['upload-offset']);
  }
  assert.equal(res.status, 204, `${what}: ${res.body}`);
  assert.equal(offset, bounds.sent + length, what);
  return offset;
}

test('upload: a newer PATCH cuts off a stalled PATCH and appends where it stopped', async (t) => {
  const { dir, origin } = await serve(t);
  const source = bytes(8 * MiB, 22);
  const { url, id } = await createUpload(origin, TOKEN, source.length, 'stall-b.bin');
  const dataFile = dataPath(dir, id);
  const { patch: stale, seen } = await stalledPatch(url, dataFile, source, 0, 3 * MiB);
  const started = performance.now();
  const offset = await newcomerPatch(
    url,
    source,
    { seen, sent: 3 * MiB, dataFile },
    5 * MiB,
    'newcomer',
  );
  assert.equal(offset, source.length);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < NEWCOMER_MS + 10_000, `the newer PATCH took ${Math.round(elapsed)} ms`);
  await waitFor('the stale PATCH cut off', () => stale.closed(), { timeoutMs: NEWCOMER_MS });
  assert.ok((await readFile(join(dir, 'stall-b.bin'))).equals(source), 'byte-identical');
});

test('upload: a HEAD cuts off a stalled checksummed PATCH; its unverified chunk is discarded', async (t) => {
  const { dir, origin } = await serve(t);
  const source = bytes(6 * MiB, 24);
  const { url, id } = await createUpload(origin, TOKEN, source.length, 'ck/stall.bin');
  const dataFile = dataPath(dir, id);
  const start = MiB;
  assert.equal((await patchUpload(url, TOKEN, 0, source.subarray(0, start))).status, 204);
  const chunk = source.subarray(start);
  const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('base64');
  const stale = streamPatch(url, TOKEN, start, chunk.length, {
    'Upload-Checksum': `sha256 ${sha256(chunk)}`,
  });
  await writeAll(stale, chunk.subarray(0, 2 * MiB));
  await waitFor('unverified bytes on disk', async () => (await sizeOf(dataFile)) > start + MiB);
  const head = await headUpload(url, TOKEN, { timeoutMs: NEWCOMER_MS });
  assert.equal(head.status, 200);
  // tus 1.0.0 §Checksum: a chunk that was not verified is discarded, the offset unchanged.
  assert.equal(head.offset, start, 'the offset is back where the unverified chunk began');
  assert.equal(await sizeOf(dataFile), start, 'its bytes were cut off the data file');
  await assert.rejects(readFile(join(dir, '.ranged-uploads', 'u', id, 'pending')), {
    code: 'ENOENT',
  });
  await waitFor('the stale PATCH cut off', () => stale.closed(), { timeoutMs: NEWCOMER_MS });
  const rest = await patchUpload(url, TOKEN, start, chunk, {
    'Upload-Checksum': `sha256 ${sha256(chunk)}`,
  });
  assert.equal(rest.status, 204, rest.body);
  assert.ok((await readFile(join(dir, 'ck/stall.bin'))).equals(source), 'byte-identical');
});

test('upload: with --workers 2, stale PATCHes are cut off by newcomers on any worker; offsets only move forward', async (t) => {
  const { dir, origin } = await serve(t, ['--workers', '2']);
  const source = bytes(12 * MiB, 23);
  const { url, id } = await createUpload(origin, TOKEN, source.length, 'w/c.bin');
  const dataFile = dataPath(dir, id);
  let offset = 0;
  for (let round = 0; round < 6; round++) {
    const what = `round ${round}`;
    const { patch: stale, seen } = await stalledPatch(url, dataFile, source, offset, MiB);
    const bounds = { seen, sent: offset + MiB, dataFile };
    const started = performance.now();
    let next: number;
    if (round % 2 === 0) {
      // The newcomer asks where the upload stands.
      const head = await headUpload(url, TOKEN, { timeoutMs: NEWCOMER_MS });
      assert.equal(head.status, 200, what);
      await assertClaim(head.offset, { ...bounds, source }, what);
      next = head.offset;
    } else {
      // The newcomer appends half a MiB after what it sent.
      next = await newcomerPatch(url, source, bounds, MiB / 2, what);
    }
    const elapsed = performance.now() - started;
    assert.ok(
      elapsed < NEWCOMER_MS + 5_000,
      `${what}: the newcomer waited ${Math.round(elapsed)} ms`,
    );
    assert.ok(next >= offset, `${what}: the offset never goes backwards (${offset} → ${next})`);
    assert.ok(next <= (await sizeOf(dataFile)), `${what}: never beyond the data on disk`);
    offset = next;
    await waitFor(`${what}: the stale PATCH cut off`, () => stale.closed(), {
      timeoutMs: NEWCOMER_MS,
    });
  }
  // A HEAD on a fresh connection (any worker) agrees, then the rest completes the upload.
  const head = await headUpload(url, TOKEN, { timeoutMs: NEWCOMER_MS });
  assert.equal(head.offset, offset);
  const rest = await patchUpload(url, TOKEN, offset, source.subarray(offset));
  assert.equal(rest.status, 204, rest.body);
  assert.ok((await readFile(join(dir, 'w/c.bin'))).equals(source), 'byte-identical');
});

test('upload: with --workers 2, concurrent PATCHes at the same offset: at most one completes, the file appears only whole', async (t) => {
  const { dir, origin } = await serve(t, ['--workers', '2']);
  const source = bytes(6 * MiB, 25);
  const { url, id } = await createUpload(origin, TOKEN, source.length, 'many/d.bin');
  const target = join(dir, 'many/d.bin');
  // Watches the target while the PATCHes race: it may only ever be absent or whole.
  let watching = true;
  const partialSightings: number[] = [];
  const watcher = (async () => {
    while (watching) {
      const size = await sizeOf(target);
      if (size !== -1 && size !== source.length) partialSightings.push(size);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, () =>
      patchUpload(url, TOKEN, 0, source).then(
        (res) => res.status,
        (error: Error) => error.message,
      ),
    ),
  );
  watching = false;
  await watcher;
  assert.deepEqual(partialSightings, [], 'the target never appeared partial');
  const completed = outcomes.filter((o) => o === 204).length;
  assert.ok(completed <= 1, `at most one PATCH completed: ${outcomes.join(', ')}`);
  for (const o of outcomes) {
    assert.ok(o === 204 || o === 408 || o === 409 || typeof o === 'string', `outcome ${o}`);
  }
  const head = await headUpload(url, TOKEN);
  assert.equal(head.status, 200);
  if (completed === 0) {
    assert.ok(head.offset <= (await sizeOf(dataPath(dir, id))), 'never beyond the data on disk');
    const rest = await patchUpload(url, TOKEN, head.offset, source.subarray(head.offset));
    assert.equal(rest.status, 204, rest.body);
  } else {
    assert.equal(head.offset, source.length);
  }
  assert.ok((await readFile(target)).equals(source), 'byte-identical');
});
