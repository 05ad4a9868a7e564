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
import { startServeCli } from '../helpers/cli.js';
import { runPut, spawnPut, TOKEN } from '../helpers/put-cli.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { makeTree } from '../helpers/tree.js';
import { terminateBehind, unfinishedIds } from '../helpers/tus.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;

async function setup() {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  let server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
  const relay = await startTcpRelay(Number(new URL(server.url).port));
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    relay,
    serverLog: () => server.stderr(),
    /** kill -9 the server, then start a new one on the same folder behind the same relay. */
    async restartServer(): Promise<void> {
      server.child.kill('SIGKILL');
      await new Promise((resolve) => server.child.once('exit', resolve));
      relay.cut();
      server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
      relay.upstream = Number(new URL(server.url).port);
    },
    async cleanup() {
      server.child.kill('SIGKILL');
      await relay.close();
      await root.cleanup();
    },
  };
}

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
      const first = spawnPut([file, url, '--limit-rate', '4M'], t.state);
      await waitFor('the server to receive 6 MiB', () => t.relay.upstreamBytes > 6 * MiB, {
        timeoutMs: 30_000,
      });
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
    const first = spawnPut([file, url, '--limit-rate', '2M'], t.state);
    await waitFor('the server to receive 2 MiB', () => t.relay.upstreamBytes > 2 * MiB, {
      timeoutMs: 30_000,
    });
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
    const put = spawnPut([file, `${t.relay.url}/.uploads/`, '--limit-rate', '8M'], t.state);
    await waitFor('the server to receive 4 MiB', () => t.relay.upstreamBytes > 4 * MiB, {
      timeoutMs: 30_000,
    });
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
    const first = spawnPut([file, url, '--limit-rate', '2M'], t.state);
    await waitFor('the server to receive 1 MiB', () => t.relay.upstreamBytes > MiB, {
      timeoutMs: 30_000,
    });
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
