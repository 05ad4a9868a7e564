/**
 * Issue 12, proof with real clients: tus-js-client 4.3.1 (Node) and tuspy (Debian python3-tuspy)
 * upload 20 MiB+ in 1 MiB chunks to `ranged serve --uploads`, to a library startServer() and to
 * createHandler() mounted in Express; the file is byte-identical at DIR/<filename> and GET serves
 * it with ranges.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import express from 'express';
import * as tus from 'tus-js-client';
import { createHandler } from '../../src/server/handler.js';
import { bytes } from '../helpers/bytes.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';
import { serveUploads, tusRequest, unfinishedIds } from '../helpers/tus.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'clients-token-1f2e3d';
const MiB = 1 << 20;
const SIZE = 20 * MiB + 12_345; // not a multiple of the chunk size: the last chunk is short

async function fixture(t: { after(fn: () => unknown): void }, size = SIZE, seed = 0) {
  const tree = await makeTree({ src: {}, served: {} });
  t.after(tree.cleanup);
  const body = bytes(size, seed);
  const source = join(tree.dir, 'src', 'upload.bin');
  await writeFile(source, body);
  return { body, source, dir: join(tree.dir, 'served') };
}

/** Asserts GET serves `path` with a Range as the right 206 slice. */
async function assertRange(url: string, path: string, body: Buffer, start: number, end: number) {
  const res = await fetch(`${url}${path}`, { headers: { Range: `bytes=${start}-${end}` } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${body.length}`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body.subarray(start, end + 1));
}

interface TusJsRun {
  url: string;
  /** Sum of the chunk sizes the server accepted, as onChunkComplete reports them. */
  sent: number;
  chunks: number;
}

/** Runs a tus-js-client upload to the end (or until `stopAfter` bytes were accepted: aborted). */
function runTusJs(
  input: Buffer | ReturnType<typeof createReadStream>,
  options: tus.UploadOptions,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<TusJsRun> {
  return new Promise((resolve, reject) => {
    const run: TusJsRun = { url: '', sent: 0, chunks: 0 };
    const upload = new tus.Upload(input, {
      chunkSize: MiB,
      retryDelays: null,
      headers: { Authorization: `Bearer ${TOKEN}` },
      ...options,
      onChunkComplete: (chunk, accepted) => {
        run.sent += chunk;
        run.chunks += 1;
        run.url = upload.url ?? '';
        if (accepted >= stopAfter) upload.abort().then(() => resolve(run), reject);
      },
      onSuccess: () => {
        run.url = upload.url ?? '';
        resolve(run);
      },
      onError: reject,
    });
    upload.start();
  });
}

test('tus-js-client 4.3.1 uploads 20 MiB from an fs.ReadStream in 1 MiB chunks to ranged serve --uploads', async (t) => {
  const { body, source, dir } = await fixture(t);
  const url = await serveUploads(t, dir, TOKEN);
  const run = await runTusJs(createReadStream(source), {
    endpoint: `${url}/.uploads/`,
    metadata: { filename: 'sub/dir/video.bin' },
  });
  assert.equal(run.sent, SIZE);
  assert.equal(run.chunks, 21);
  assert.match(new URL(run.url).pathname, /^\/\.uploads\/[^/]+$/);
  assert.deepEqual(await readFile(join(dir, 'sub', 'dir', 'video.bin')), body);
  await assertRange(url, '/sub/dir/video.bin', body, 3 * MiB - 7, 9 * MiB + 100);
  await assertRange(url, '/sub/dir/video.bin', body, SIZE - 1000, SIZE - 1);
  // A client whose last response was lost asks: the upload is there, complete.
  const head = await tusRequest(url, 'HEAD', new URL(run.url).pathname, { token: TOKEN });
  assert.equal(head.status, 200);
  assert.equal(head.headers['upload-offset'], String(SIZE));
  assert.equal(head.headers['upload-length'], String(SIZE));
  assert.deepEqual(await unfinishedIds(dir), []);
});

test('tus-js-client: an upload aborted midway resumes from its uploadUrl, sends only the rest, and ends identical', async (t) => {
  const { body, source, dir } = await fixture(t, SIZE, 11);
  const url = await serveUploads(t, dir, TOKEN);
  const target = join(dir, 'resumed.bin');
  const first = await runTusJs(
    createReadStream(source),
    { endpoint: `${url}/.uploads/`, metadata: { filename: 'resumed.bin' } },
    8 * MiB,
  );
  assert.ok(first.sent >= 8 * MiB && first.sent < SIZE, `first run sent ${first.sent}`);
  // Unfinished: nothing at the target yet, and the server knows what it has.
  await assert.rejects(access(target), { code: 'ENOENT' });
  const path = new URL(first.url).pathname;
  const head = await waitFor('the aborted chunk to be settled', async () => {
    const h = await tusRequest(url, 'HEAD', path, { token: TOKEN });
    return h.status === 200 && Number(h.headers['upload-offset']) >= first.sent && h;
  });
  const offset = Number(head.headers['upload-offset']);
  assert.ok(offset < SIZE, `offset ${offset}`);
  assert.equal(head.headers['cache-control'], 'no-store');

  const second = await runTusJs(createReadStream(source), {
    uploadUrl: first.url,
    metadata: { filename: 'resumed.bin' },
  });
  assert.equal(second.url, first.url);
  assert.equal(second.sent, SIZE - offset);
  assert.ok(second.sent < SIZE);
  assert.deepEqual(await readFile(target), body);
  await assertRange(url, '/resumed.bin', body, offset - 10, offset + 10);
});

test('tuspy (python3-tuspy) uploads 20 MiB in 1 MiB chunks with sha1 Upload-Checksum', async (t) => {
  const { body, source, dir } = await fixture(t, SIZE, 23);
  const url = await serveUploads(t, dir, TOKEN);
  const script = [
    'import sys',
    'from tusclient import client',
    "c = client.TusClient(sys.argv[1] + '/.uploads/', headers={'Authorization': 'Bearer ' + sys.argv[2]})",
    "u = c.uploader(sys.argv[3], chunk_size=1 << 20, metadata={'filename': 'py/file.bin'}, upload_checksum=True)",
    'u.upload()',
    'print(u.url)',
    'print(u.offset)',
  ].join('\n');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      '/usr/bin/python3',
      ['-c', script, url, TOKEN, source],
      { timeout: 90_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  const [uploadUrl, offset] = out.trim().split('\n');
  assert.match(new URL(uploadUrl ?? '').pathname, /^\/\.uploads\/[^/]+$/);
  assert.equal(offset, String(SIZE));
  assert.deepEqual(await readFile(join(dir, 'py', 'file.bin')), body);
  await assertRange(url, '/py/file.bin', body, 0, MiB);
});

test('startServer({uploads: {token}}): the library option takes a tus-js-client upload from a Buffer', async (t) => {
  const { body, dir } = await fixture(t, SIZE, 5);
  const server = await listen(t, { root: dir, uploads: { token: TOKEN } });
  const run = await runTusJs(body, {
    endpoint: `${server.url}/.uploads/`,
    metadata: { filename: 'lib.bin' },
  });
  assert.equal(run.sent, SIZE);
  assert.deepEqual(await readFile(join(dir, 'lib.bin')), body);
  await assertRange(server.url, '/lib.bin', body, 17, 5 * MiB);
  // Without the token, the same library server refuses a creation.
  const refused = await tusRequest(server.url, 'POST', '/.uploads/', {
    token: null,
    headers: { 'Upload-Length': '1', 'Upload-Metadata': 'filename bm8uYmlu' },
  });
  assert.equal(refused.status, 401);
});

test('express: app.use("/files", createHandler(dir, {uploads})) answers a Location under /files and takes the upload', async (t) => {
  const { body, source, dir } = await fixture(t, SIZE, 9);
  const app = express();
  const handler = createHandler(dir, { uploads: { token: TOKEN } });
  app.use('/files', handler);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('express 404');
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    handler.close();
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const run = await runTusJs(createReadStream(source), {
    endpoint: `${url}/files/.uploads/`,
    metadata: { filename: 'mounted/e.bin' },
  });
  assert.match(new URL(run.url).pathname, /^\/files\/\.uploads\/[^/]+$/);
  assert.equal(run.sent, SIZE);
  assert.deepEqual(await readFile(join(dir, 'mounted', 'e.bin')), body);
  await assertRange(url, '/files/mounted/e.bin', body, MiB, 2 * MiB);
  const head = await tusRequest(url, 'HEAD', new URL(run.url).pathname, { token: TOKEN });
  assert.equal(head.status, 200);
  assert.equal(head.headers['upload-offset'], String(SIZE));
  // Outside the mount, Express's own 404: the handler only sees /files.
  const outside = await tusRequest(url, 'POST', '/.uploads/', { token: TOKEN });
  assert.equal(outside.status, 404);
  assert.equal(outside.body.toString(), 'express 404');
});
