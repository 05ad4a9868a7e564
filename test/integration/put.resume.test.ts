/**
 * `ranged put` survives interruptions (issue 13): a kill -9 mid-upload, rerun, completes
 * byte-identical with at most one chunk (8 MiB) sent twice, counted by a TCP relay in front of
 * the server; a FILE changed between runs starts over after terminating the old upload; a server
 * killed and restarted mid-upload is ridden out by the same run's retries.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { putUnderway, runPut, serveBehindRelay, TOKEN } from '../helpers/put-cli.js';
import { terminateBehind, unfinishedIds } from '../helpers/tus.js';

const MiB = 1024 * 1024;

const setup = serveBehindRelay;

for (const [label, target] of [
  ['tus', '/.uploads/'],
  ['the IETF draft', '/in/big.bin'],
] as const) {
  test(`ranged put resumes after kill -9 (${label}): byte-identical, the server received at most size + 8 MiB`, async () => {
    const t = await setup();
    try {
      const size = 24 * MiB + 3;
      const data = bytes(size, 9);
      const file = join(t.local, 'big.bin');
      await writeFile(file, data);
      const url = `${t.relay.url}${target}`;
      const first = await putUnderway(
        [file, url, '--limit-rate', '4M'],
        t.state,
        () => t.relay.upstreamBytes,
        6 * MiB,
      );
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      assert.equal((await readdir(join(t.state, 'ranged'))).length, 1, 'the state is saved');
      const second = await runPut([file, url], t.state);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /MiB were already there/);
      const stored = label === 'tus' ? 'big.bin' : 'in/big.bin';
      assert.ok((await readFile(join(t.srv, stored))).equals(data), 'byte-identical');
      assert.ok(
        t.relay.upstreamBytes <= size + 8 * MiB,
        `the server received ${t.relay.upstreamBytes} bytes for ${size}`,
      );
      assert.deepEqual(await readdir(join(t.state, 'ranged')), []);
    } finally {
      await t.cleanup();
    }
  });
}

test('ranged put after FILE changed says so, terminates the old upload, and sends the new file whole', async () => {
  const t = await setup();
  try {
    const size = 12 * MiB;
    const file = join(t.local, 'song.wav');
    await writeFile(file, bytes(size, 1));
    const url = `${t.relay.url}/.uploads/`;
    const first = await putUnderway(
      [file, url, '--limit-rate', '2M'],
      t.state,
      () => t.relay.upstreamBytes,
      2 * MiB,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await unfinishedIds(t.srv)).length, 1);
    const changed = bytes(size, 77); // same size, other bytes (and a new mtime)
    await writeFile(file, changed);
    const second = await runPut([file, url], t.state);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /changed since the last run .*terminating the old upload/);
    assert.ok((await readFile(join(t.srv, 'song.wav'))).equals(changed), 'the new file, whole');
    assert.match(t.serverLog(), /^DELETE \/\.uploads\/\S+ 204/m);
    assert.deepEqual(await unfinishedIds(t.srv), []);
  } finally {
    await t.cleanup();
  }
});

test('ranged put rides out a server killed and restarted mid-upload: the same run finishes', async () => {
  const t = await setup();
  try {
    const size = 20 * MiB;
    const data = bytes(size, 5);
    const file = join(t.local, 'r.bin');
    await writeFile(file, data);
    const put = await putUnderway(
      [file, `${t.relay.url}/.uploads/`, '--limit-rate', '8M'],
      t.state,
      () => t.relay.upstreamBytes,
      4 * MiB,
    );
    await t.restartServer();
    const code = await put.exited;
    assert.equal(code, 0, put.stderr());
    assert.match(put.stderr(), /retrying in/);
    assert.ok((await readFile(join(t.srv, 'r.bin'))).equals(data), 'byte-identical');
  } finally {
    await t.cleanup();
  }
});

test('ranged put on SIGINT exits 130 saying how to resume; an upload the server forgot starts over, said so', async () => {
  const t = await setup();
  try {
    const size = 12 * MiB;
    const data = bytes(size, 4);
    const file = join(t.local, 'gone.bin');
    await writeFile(file, data);
    const url = `${t.relay.url}/.uploads/`;
    const first = await putUnderway(
      [file, url, '--limit-rate', '2M'],
      t.state,
      () => t.relay.upstreamBytes,
      MiB,
    );
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 130, first.stderr());
    assert.match(first.stderr(), /interrupted; the upload is saved, run the same command again/);
    // The server forgets the upload (as an expiry would): terminate it behind the client's back.
    const [name] = await readdir(join(t.state, 'ranged'));
    const saved = JSON.parse(await readFile(join(t.state, 'ranged', name as string), 'utf8')) as {
      parts: { url: string }[];
    };
    assert.equal(await terminateBehind(saved.parts[0]?.url as string, TOKEN), 204);
    const second = await runPut([file, url], t.state);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /no longer has the upload \(4(04|10)\): starting the upload over/);
    assert.ok((await readFile(join(t.srv, 'gone.bin'))).equals(data));
  } finally {
    await t.cleanup();
  }
});
