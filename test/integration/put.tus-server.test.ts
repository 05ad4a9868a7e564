/**
 * `ranged put` against a foreign tus server (issue 13): @tus/server with @tus/file-store, in a
 * child process (bench/upload-child.ts). A whole upload, and a kill -9 of `ranged put`
 * mid-upload, rerun: byte-identical. The server has no concatenation: -c 4 says once that it
 * uses one connection.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bytes } from '../helpers/bytes.js';
import { runPut, spawnPut } from '../helpers/put-cli.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('../../bench/upload-child.js', import.meta.url));

async function startTus(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CHILD, 'tus', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const port = await waitFor('@tus/server to print its port', () => {
    const m = /\{"port":(\d+)\}/.exec(out);
    return m === null ? undefined : Number(m[1]);
  });
  return { child, url: `http://127.0.0.1:${port}/files` };
}

/** The data file @tus/file-store wrote for the upload whose URL ends the put's last line. */
function storedPath(dir: string, stderr: string): string {
  const m = /to http:\/\/\S+\/files\/(\S+)\n/.exec(stderr);
  assert.ok(m, stderr);
  return join(dir, m[1] as string);
}

async function setup() {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  const tus = await startTus(srv);
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    url: tus.url,
    async cleanup() {
      tus.child.kill('SIGKILL');
      await root.cleanup();
    },
  };
}

test('ranged put uploads to @tus/server byte-identical; -c 4 falls back to one connection, said once', async () => {
  const t = await setup();
  try {
    const data = bytes(17 * MiB + 1, 3);
    const file = join(t.local, 'clip.mov');
    await writeFile(file, data);
    const r = await runPut([file, t.url, '-c', '4', '--chunk-checksum'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/does not support tus concatenation/g)?.length, 1, r.stderr);
    assert.ok((await readFile(storedPath(t.srv, r.stderr))).equals(data));
  } finally {
    await t.cleanup();
  }
});

test('ranged put resumes on @tus/server after kill -9: byte-identical', async () => {
  const t = await setup();
  try {
    const data = bytes(20 * MiB, 8);
    const file = join(t.local, 'big.bin');
    await writeFile(file, data);
    const first = spawnPut([file, t.url, '--limit-rate', '4M'], t.state);
    const dataFile = async (): Promise<boolean> => {
      for (const name of await readdir(t.srv)) {
        if (name.endsWith('.json')) continue;
        if ((await stat(join(t.srv, name))).size > 3 * MiB) return true;
      }
      return false;
    };
    await waitFor('@tus/server to hold 3 MiB', dataFile, { timeoutMs: 30_000 });
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const second = await runPut([file, t.url], t.state);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /MiB were already there/);
    assert.ok((await readFile(storedPath(t.srv, second.stderr))).equals(data));
  } finally {
    await t.cleanup();
  }
});
