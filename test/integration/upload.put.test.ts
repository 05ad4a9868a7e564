/**
 * Issue 12: a plain `PUT /path` with the token stores the body all or nothing, so
 * `curl -T file -H 'Authorization: Bearer …' URL` works; a second PUT is 409, a PUT without the
 * token is 401, and a body cut short leaves nothing at the target or in the store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';
import { servedTree, serveUploads, tusRequest, unfinishedIds } from '../helpers/tus.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'put-token-9a8b7c';
const MiB = 1 << 20;
const SIZE = 20 * MiB + 4_097;

async function fixture(t: { after(fn: () => unknown): void }, size = SIZE, seed = 0) {
  const tree = await makeTree({ src: {}, served: { 'keep.txt': 'kept' } });
  t.after(tree.cleanup);
  const body = bytes(size, seed);
  const source = join(tree.dir, 'src', 'a.bin');
  await writeFile(source, body);
  return { body, source, dir: join(tree.dir, 'served') };
}

/** Runs curl with `args`, bounded; resolves with the status (-w) and the response headers. */
function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-D', '-', '-w', '\n%{http_code}', '--max-time', '60', ...args],
      { timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 4 * MiB },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        const lines = stdout.trimEnd().split('\n');
        const status = Number(lines.pop());
        const text = lines.join('\n');
        // The last header block (after any 100 Continue), then the body.
        const blocks = text.split(/\r\n\r\n/);
        const body = blocks.pop() ?? '';
        resolve({ status, headers: blocks.pop() ?? '', body });
      },
    );
  });
}

test('PUT: curl -T uploads 20 MiB to DIR/music/a.bin (201, identical, served with ranges); again 409 and unchanged', async (t) => {
  const { body, source, dir } = await fixture(t);
  const url = await serveUploads(t, dir, TOKEN);
  const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
  const first = await curl(['-T', source, ...auth, `${url}/music/a.bin`]);
  assert.equal(first.status, 201);
  const target = join(dir, 'music', 'a.bin');
  assert.deepEqual(await readFile(target), body);
  const range = await fetch(`${url}/music/a.bin`, { headers: { Range: 'bytes=5000000-5000999' } });
  assert.equal(range.status, 206);
  assert.deepEqual(Buffer.from(await range.arrayBuffer()), body.subarray(5_000_000, 5_001_000));
  const before = await stat(target);

  // The same path again, with other bytes: 409, and the file keeps its bytes.
  await writeFile(source, bytes(SIZE, 99));
  const second = await curl(['-T', source, ...auth, `${url}/music/a.bin`]);
  assert.equal(second.status, 409);
  assert.deepEqual(await readFile(target), body);
  assert.equal((await stat(target)).mtimeMs, before.mtimeMs);
  // An existing file that no upload made is refused the same way.
  const keep = await curl(['-T', source, ...auth, `${url}/keep.txt`]);
  assert.equal(keep.status, 409);
  assert.equal(await readFile(join(dir, 'keep.txt'), 'utf8'), 'kept');
  assert.deepEqual(await unfinishedIds(dir), []);
});

test('PUT: without the token, or with a wrong one, 401 + WWW-Authenticate: Bearer and nothing created', async (t) => {
  const { source, dir } = await fixture(t, 3 * MiB, 1);
  const url = await serveUploads(t, dir, TOKEN);
  const before = await servedTree(dir);
  for (const auth of [
    [],
    ['-H', 'Authorization: Bearer wrong-token'],
    ['-H', 'Authorization: Basic eDp5'],
  ]) {
    // Several times: curl sends `Expect: 100-continue`, and the 401 must come before the body
    // (a server that let the body start and then closed used to reset curl now and then).
    for (let i = 0; i < 5; i++) {
      const res = await curl(['-T', source, ...auth, `${url}/music/a.bin`]);
      assert.equal(res.status, 401, `with ${auth.join(' ') || 'no Authorization'}`);
      assert.match(res.headers, /^www-authenticate: Bearer/im);
    }
  }
  // RFC 9110 §10.1.1: the client that waits for 100 (Continue) gets the 401 instead.
  const port = new URL(url).port;
  const raw = await rawRequest(
    url,
    `PUT /music/a.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: 100-continue\r\nContent-Length: 1000`,
  );
  assert.equal(raw.status, 401);
  assert.equal(raw.headers['www-authenticate'], 'Bearer');
  assert.deepEqual(await servedTree(dir), before);
  assert.deepEqual(await unfinishedIds(dir), []);
  await assert.rejects(access(join(dir, 'music')), { code: 'ENOENT' });
});

test('PUT: a body cut short (Content-Length N, fewer bytes, socket destroyed) leaves nothing at the target or in the store', async (t) => {
  const { dir } = await fixture(t, 0);
  const url = await serveUploads(t, dir, TOKEN);
  const port = Number(new URL(url).port);
  const length = 8 * MiB;
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(
    [
      'PUT /music/cut.bin HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${TOKEN}`,
      `Content-Length: ${length}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(bytes(3 * MiB, 4));
  // The server is storing it: an unfinished upload exists in the store, nothing at the target.
  await waitFor(
    'the PUT to be stored in .ranged-uploads/u',
    async () => (await unfinishedIds(dir)).length === 1,
    {
      timeoutMs: 15_000,
    },
  );
  await assert.rejects(access(join(dir, 'music', 'cut.bin')), { code: 'ENOENT' });
  socket.destroy();
  await waitFor(
    'the cut PUT to leave the store',
    async () => (await unfinishedIds(dir)).length === 0,
    {
      timeoutMs: 15_000,
    },
  );
  await assert.rejects(access(join(dir, 'music', 'cut.bin')), { code: 'ENOENT' });
  // Not even the folder: folders are made when a whole file is placed.
  await assert.rejects(access(join(dir, 'music')), { code: 'ENOENT' });
  const get = await fetch(`${url}/music/cut.bin`);
  assert.equal(get.status, 404);
  await get.arrayBuffer();
  // The path is free: a whole PUT to it now succeeds.
  const whole = bytes(100_000, 8);
  const res = await tusRequest(url, 'PUT', '/music/cut.bin', {
    token: TOKEN,
    body: whole,
    headers: { 'Tus-Resumable': undefined },
  });
  assert.equal(res.status, 201);
  assert.deepEqual(await readFile(join(dir, 'music', 'cut.bin')), whole);
});

test('PUT: above --max-upload-size, 413 and nothing stored, with a Content-Length or chunked', async (t) => {
  const { source, dir } = await fixture(t, 2 * MiB, 2);
  const url = await serveUploads(t, dir, TOKEN, ['--max-upload-size', '1M']);
  const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
  const sized = await curl(['-T', source, ...auth, `${url}/big.bin`]);
  assert.equal(sized.status, 413);
  const chunked = await curl([
    '-T',
    source,
    ...auth,
    '-H',
    'Transfer-Encoding: chunked',
    `${url}/big.bin`,
  ]);
  assert.equal(chunked.status, 413);
  await assert.rejects(access(join(dir, 'big.bin')), { code: 'ENOENT' });
  await waitFor('no unfinished upload', async () => (await unfinishedIds(dir)).length === 0, {
    timeoutMs: 10_000,
  });
  // At the limit exactly, it is taken.
  const exact = bytes(MiB, 3);
  await writeFile(source, exact);
  const ok = await curl(['-T', source, ...auth, `${url}/big.bin`]);
  assert.equal(ok.status, 201);
  assert.deepEqual(await readFile(join(dir, 'big.bin')), exact);
});
