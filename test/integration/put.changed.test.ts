/**
 * `ranged put` and a FILE changed during the run: overwritten with the same size, the run stops
 * (exit 9, said so) before the server holds a whole file, and the same command run again
 * terminates the old upload and sends the new content whole; truncated, the run stops at once
 * instead of retrying; overwritten during the request that would complete the upload, its last
 * bytes are not sent. No byte is sent twice within a run, and no spliced file is ever served.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { putUnderway, runPut, serveBehindRelay } from '../helpers/put-cli.js';

const MiB = 1024 * 1024;

const setup = serveBehindRelay;

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

const CHANGED =
  /Cannot upload ".*big\.bin": it changed during the upload \((its size changed from \d+ to \d+ bytes|it was modified)\); run the same command again to upload the new content/;

for (const [label, target, stored] of [
  ['tus', '/.uploads/', 'big.bin'],
  ['the IETF draft', '/in/big.bin', 'in/big.bin'],
] as const) {
  test(`ranged put on FILE overwritten mid-run (${label}): exit 9, no file served; the rerun terminates the old upload and sends the new content`, async () => {
    const t = await setup();
    try {
      const size = 24 * MiB + 5;
      const file = join(t.local, 'big.bin');
      await writeFile(file, bytes(size, 3));
      const url = `${t.relay.url}${target}`;
      const first = await putUnderway(
        [file, url, '--limit-rate', '4M'],
        t.state,
        () => t.relay.upstreamBytes,
        2 * MiB,
      );
      const changed = bytes(size, 44); // the same size, other bytes (and a new mtime)
      await writeFile(file, changed);
      const code = await first.exited;
      assert.equal(code, 9, first.stderr());
      assert.match(first.stderr(), CHANGED);
      assert.doesNotMatch(first.stderr(), /retrying/);
      assert.equal(await exists(join(t.srv, stored)), false, 'no file is served at the target');
      assert.equal((await readdir(join(t.state, 'ranged'))).length, 1, 'the state is kept');

      const second = await runPut([file, url], t.state);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /changed since the last run .*terminating the old upload/);
      assert.ok((await readFile(join(t.srv, stored))).equals(changed), 'the new file, whole');
      assert.match(t.serverLog(), /^DELETE \S+ 204/m);
      assert.deepEqual(await readdir(join(t.state, 'ranged')), []);
    } finally {
      await t.cleanup();
    }
  });
}

test('ranged put on FILE overwritten during its one, completing request: caught before the last bytes are sent', async () => {
  const t = await setup();
  try {
    const size = 6 * MiB; // below the first 8 MiB request: one PATCH, checked before it starts
    const file = join(t.local, 'big.bin');
    await writeFile(file, bytes(size, 6));
    const put = await putUnderway(
      [file, `${t.relay.url}/.uploads/`, '--limit-rate', '2M'],
      t.state,
      () => t.relay.upstreamBytes,
      MiB,
    );
    await writeFile(file, bytes(size, 66));
    assert.equal(await put.exited, 9, put.stderr());
    assert.match(put.stderr(), CHANGED);
    assert.ok(t.relay.upstreamBytes < size, `the server received ${t.relay.upstreamBytes} bytes`);
    assert.equal(await exists(join(t.srv, 'big.bin')), false, 'no file is served at the target');
  } finally {
    await t.cleanup();
  }
});

/**
 * A 24 MiB FILE (`name`) uploaded by tus at `rate`; once the server has 2 MiB, `change(file)`
 * alters it. What the put process said and exited with, how long after the change it exited,
 * whether a file is served at the target, and how many state files are left.
 */
async function changeMidRun(
  name: string,
  seed: number,
  rate: string,
  change: (file: string) => Promise<void>,
) {
  const t = await setup();
  try {
    const file = join(t.local, name);
    await writeFile(file, bytes(24 * MiB, seed));
    const put = await putUnderway(
      [file, `${t.relay.url}/.uploads/`, '--limit-rate', rate],
      t.state,
      () => t.relay.upstreamBytes,
      2 * MiB,
    );
    await change(file);
    const changed = performance.now();
    const code = await put.exited;
    const ms = performance.now() - changed;
    return {
      code,
      stderr: put.stderr(),
      ms,
      served: await exists(join(t.srv, name)),
      states: (await readdir(join(t.state, 'ranged'))).length,
    };
  } finally {
    await t.cleanup();
  }
}

test('ranged put on FILE truncated mid-run stops at once (exit 9, said so), without retrying', async () => {
  const r = await changeMidRun('big.bin', 8, '4M', (file) => truncate(file, MiB));
  assert.equal(r.code, 9, r.stderr);
  assert.match(r.stderr, CHANGED);
  assert.match(r.stderr, /its size changed from 25165824 to 1048576 bytes/);
  assert.doesNotMatch(r.stderr, /retrying/);
  // The first retry would come after 0.5 s, the tenth minutes later: this is the file's check.
  assert.ok(r.ms < 3000, `exited ${Math.round(r.ms)} ms after the truncation`);
  assert.equal(r.served, false);
  assert.equal(r.states, 1, 'the state is kept');
});

test('ranged put on FILE removed mid-run stops (exit 9, "it was removed"), without retrying', async () => {
  const r = await changeMidRun('gone.bin', 9, '8M', (file) => rm(file));
  assert.equal(r.code, 9, r.stderr);
  assert.match(r.stderr, /it was removed/);
  assert.doesNotMatch(r.stderr, /retrying/);
  assert.equal(r.served, false);
  assert.equal(r.states, 1, 'the state is kept');
});

test('ranged put on FILE replaced mid-run by a same-size file with the old mtime (as cp -p or rsync -t leave it) stops: the inode and ctime tell', async () => {
  const r = await changeMidRun('swap.bin', 10, '8M', async (file) => {
    const other = `${file}.tmp`;
    await writeFile(other, bytes(24 * MiB, 11));
    // touch -r copies the mtime to the nanosecond (utimensat), as cp -p and rsync -t do.
    execFileSync('touch', ['-r', file, other]);
    assert.equal((await stat(other)).mtimeMs, (await stat(file)).mtimeMs);
    await rename(other, file);
  });
  assert.equal(r.code, 9, r.stderr);
  assert.match(r.stderr, /another file took its name|it was modified/);
  assert.equal(r.served, false, 'never completed spliced');
});
