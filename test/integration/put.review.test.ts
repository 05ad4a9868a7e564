/**
 * `ranged put` as an outside suite runs it (issue 13 review): nothing listening fails at once like
 * `get`, and exit 0 only when the server confirmed the whole upload: never for the served folder
 * itself as an IETF target, nor for an IETF upload whose target appeared meanwhile.
 */
import assert from 'node:assert/strict';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { startServeCli } from '../helpers/cli.js';
import { runPut, spawnPut, TOKEN } from '../helpers/put-cli.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;

async function setup() {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  const server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    url: server.url,
    async cleanup() {
      server.child.kill('SIGKILL');
      await root.cleanup();
    },
  };
}

test('ranged put to a port where nothing listens fails at once with exit 4, like get', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'a.bin');
    await writeFile(file, bytes(1000, 1));
    const started = Date.now();
    const r = await runPut([file, 'http://127.0.0.1:1/a.bin'], t.state, { timeoutMs: 30_000 });
    assert.equal(r.code, 4, r.stderr);
    assert.ok(Date.now() - started < 10_000, 'no retry loop');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /connection refused/);
  } finally {
    await t.cleanup();
  }
});

test('ranged put to the served folder itself (not a file URL) is refused, never exit 0', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'a.bin');
    await writeFile(file, bytes(100_000, 2));
    const r = await runPut([file, `${t.url}/`], t.state);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(
      (await readdir(t.srv)).filter((n) => !n.startsWith('.')),
      [],
    );
  } finally {
    await t.cleanup();
  }
});

test('ranged put by the IETF draft does not exit 0 when its target appeared meanwhile', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'take.bin');
    await writeFile(file, bytes(4 * MiB, 3));
    const p = spawnPut([file, `${t.url}/take.bin`, '--limit-rate', '2M'], t.state);
    // Once the upload runs, someone else puts a file at the same path (not through the server).
    const records = join(t.srv, '.ranged-uploads', 'u');
    await waitFor('the upload was created', async () =>
      (await readdir(records).catch(() => [])).length > 0 ? true : undefined,
    );
    await writeFile(join(t.srv, 'take.bin'), 'theirs');
    const code = await p.exited;
    assert.notEqual(code, 0, p.stderr());
    assert.equal(code, 3, p.stderr());
    assert.match(p.stderr(), /exists/);
  } finally {
    await t.cleanup();
  }
});

test('ranged put by tus does not exit 0 when its target appeared before the last PATCH', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'take.bin');
    await writeFile(file, bytes(4 * MiB, 4));
    const p = spawnPut([file, `${t.url}/.uploads/`, '--limit-rate', '2M'], t.state);
    const records = join(t.srv, '.ranged-uploads', 'u');
    await waitFor('the upload was created', async () =>
      (await readdir(records).catch(() => [])).length > 0 ? true : undefined,
    );
    await writeFile(join(t.srv, 'take.bin'), 'theirs');
    const code = await p.exited;
    assert.equal(code, 3, p.stderr());
    assert.match(p.stderr(), /exists/);
  } finally {
    await t.cleanup();
  }
});

test('ranged put of an unreadable FILE is one line, exit 2', {
  skip: process.getuid?.() === 0 ? 'root reads every file' : false,
}, async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'secret.bin');
    await writeFile(file, bytes(1000, 5));
    await chmod(file, 0o000);
    const r = await runPut([file, `${t.url}/.uploads/`], t.state);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `ranged: Cannot upload "${file}": permission denied\n`);
  } finally {
    await t.cleanup();
  }
});

test('ranged put without any token says how to give one (401, exit 3, one line)', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'a.bin');
    await writeFile(file, bytes(1000, 6));
    const r = await runPut([file, `${t.url}/.uploads/`], t.state, {
      env: { RANGED_UPLOAD_TOKEN: '' },
    });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /\(401\): no token was given \(--token TOKEN or RANGED_UPLOAD_TOKEN\)$/m,
    );
  } finally {
    await t.cleanup();
  }
});

test("ranged put says the server's own reason for a refusal (a bad --name: 400, exit 3, one line)", async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'a.bin');
    await writeFile(file, bytes(1000, 7));
    const r = await runPut([file, `${t.url}/.uploads/`, '--name', '/abs.bin'], t.state);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /the server answered 400: bad filename: .*"\/abs\.bin"$/m);
  } finally {
    await t.cleanup();
  }
});
