/**
 * Issue 12, the IETF draft with a real client: tus-js-client 4.3.1 in Node with
 * `protocol: 'ietf-draft-05'` (interop 6) creates with POST at the target path itself, appends
 * with PATCH at `/.uploads/ID`, resumes after an abort from the server's offset, and the file
 * appears byte-identical and is served with ranges like any other.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Upload, type UploadOptions } from 'tus-js-client';
import { startServeCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'ietf-token-0123456789';
const MiB = 1024 * 1024;
const SIZE = 21 * MiB + 12_345;

/** Bytes that encode their offset: every 8-byte word holds its own offset (big endian). */
function offsetBytes(size: number): Buffer {
  const buf = Buffer.alloc(Math.ceil(size / 8) * 8);
  for (let o = 0; o < buf.length; o += 8) buf.writeBigUInt64BE(BigInt(o), o);
  return buf.subarray(0, size);
}

async function setup(t: { after(fn: () => unknown): void }, extra: string[] = []) {
  const tree = await makeTree({ music: {} });
  t.after(tree.cleanup);
  const source = await makeTree();
  t.after(source.cleanup);
  const server = await startServeCli(tree.dir, ['--uploads', '--upload-token', TOKEN, ...extra]);
  t.after(() => server.child.kill('SIGKILL'));
  return { dir: tree.dir, url: server.url.replace(/\/$/, ''), sourceDir: source.dir };
}

/** tus-js-client options for the draft (its typings do not list `protocol`). */
function draftOptions(options: UploadOptions): UploadOptions {
  return {
    protocol: 'ietf-draft-05',
    headers: { Authorization: `Bearer ${TOKEN}` },
    chunkSize: MiB,
    retryDelays: null,
    storeFingerprintForResuming: false,
    ...options,
  } as UploadOptions;
}

/** Runs an upload to its end; rejects on the client's error. */
function run(file: string, options: UploadOptions): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(
      createReadStream(file) as unknown as Buffer,
      draftOptions({
        ...options,
        onSuccess: () => resolve(upload),
        onError: reject,
      }),
    );
    upload.start();
  });
}

/** GET with a Range header. */
async function getRange(url: string, range: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, { headers: { Range: range } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** The upload folders of unfinished uploads in the store. */
async function unfinished(dir: string): Promise<string[]> {
  return readdir(join(dir, '.ranged-uploads', 'u'));
}

test('tus-js-client ietf-draft-05 uploads 21 MiB in 1 MiB chunks to the path; GET serves it with ranges', async (t) => {
  const { dir, url, sourceDir } = await setup(t);
  const data = offsetBytes(SIZE);
  const file = join(sourceDir, 'take1.wav');
  await writeFile(file, data);
  let chunks = 0;
  await run(file, {
    endpoint: `${url}/music/take1.wav`,
    onChunkComplete: () => {
      chunks++;
    },
  });
  assert.equal(chunks, Math.ceil(SIZE / MiB), 'one PATCH per 1 MiB chunk');
  const stored = await readFile(join(dir, 'music', 'take1.wav'));
  assert.equal(stored.length, SIZE);
  assert.ok(stored.equals(data), 'the uploaded file is byte-identical');
  assert.deepEqual(await unfinished(dir), [], 'nothing is left in the store');

  const start = 13 * MiB + 5;
  const end = start + 2 * MiB;
  const ranged = await getRange(`${url}/music/take1.wav`, `bytes=${start}-${end}`);
  assert.equal(ranged.status, 206);
  assert.ok(ranged.body.equals(data.subarray(start, end + 1)), 'the range is the right slice');
});

/**
 * A TCP proxy to `target` that counts the bytes clients send through it, so a test sees what a
 * client really put on the wire.
 */
async function countingProxy(t: { after(fn: () => unknown): void }, target: string) {
  const { hostname, port } = new URL(target);
  const counter = { sent: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk: Buffer) => {
      counter.sent += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, counter };
}

/** HEAD of an upload resource at interop 6, as tus-js-client asks for the offset. */
async function offsetOf(uploadUrl: string): Promise<number> {
  const res = await fetch(uploadUrl, {
    method: 'HEAD',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Upload-Draft-Interop-Version': '6' },
  });
  assert.equal(res.status, 204);
  return Number(res.headers.get('upload-offset'));
}

test('tus-js-client ietf-draft-05: an aborted upload resumes from the server offset and sends only the rest', async (t) => {
  const { dir, url, sourceDir } = await setup(t);
  const data = offsetBytes(SIZE);
  const file = join(sourceDir, 'take2.wav');
  await writeFile(file, data);
  const target = join(dir, 'music', 'take2.wav');

  // First run: aborted in the middle of a PATCH, once 8.5 MiB are on their way.
  let first: Upload | undefined;
  let aborting = false;
  const aborted = new Promise<void>((resolve, reject) => {
    first = new Upload(
      createReadStream(file) as unknown as Buffer,
      draftOptions({
        endpoint: `${url}/music/take2.wav`,
        onProgress: (sent) => {
          if (aborting || sent < 8.5 * MiB) return;
          aborting = true;
          first?.abort().then(resolve, reject);
        },
        onSuccess: () => reject(new Error('the first run should not finish')),
        onError: reject,
      }),
    );
    first.start();
  });
  await aborted;
  const uploadUrl = first?.url ?? '';
  assert.ok(uploadUrl.startsWith(`${url}/.uploads/`), `upload URL ${uploadUrl}`);
  await assert.rejects(stat(target), { code: 'ENOENT' }, 'no file before the last byte');
  // A HEAD takes the upload over from any PATCH the abort left running; its offset is final.
  const offset = await offsetOf(uploadUrl);
  assert.ok(offset >= 8 * MiB && offset < SIZE, `the server kept ${offset} bytes`);

  // Second run, through a proxy that counts what the client sends.
  const proxy = await countingProxy(t, url);
  const resumedUrl = uploadUrl.replace(url, proxy.url);
  let resumedAt: number | undefined;
  await run(file, {
    endpoint: `${proxy.url}/music/take2.wav`,
    uploadUrl: resumedUrl,
    onChunkComplete: (size, accepted) => {
      resumedAt ??= accepted - size;
    },
  });
  assert.equal(resumedAt, offset, 'the client resumed at the offset the server gave');
  assert.ok(proxy.counter.sent >= SIZE - offset, `sent ${proxy.counter.sent} bytes`);
  assert.ok(
    proxy.counter.sent < SIZE - offset + 64 * 1024,
    `the second run sent ${proxy.counter.sent} bytes, about the ${SIZE - offset} missing, not the file`,
  );
  const stored = await readFile(target);
  assert.ok(stored.equals(data), 'the resumed upload is byte-identical');
  assert.deepEqual(await unfinished(dir), []);
});

test('tus-js-client ietf-draft-05: a 0-byte file is complete on its creation', async (t) => {
  const { dir, url, sourceDir } = await setup(t);
  const file = join(sourceDir, 'empty.bin');
  await writeFile(file, '');
  const upload = await run(file, { endpoint: `${url}/music/empty.bin` });
  const stored = await stat(join(dir, 'music', 'empty.bin'));
  assert.ok(stored.isFile());
  assert.equal(stored.size, 0);
  assert.deepEqual(await unfinished(dir), []);
  // Its upload resource says it is complete (offset = length = 0).
  const uploadUrl = upload.url as string;
  const head = await fetch(uploadUrl, {
    method: 'HEAD',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Upload-Draft-Interop-Version': '9' },
  });
  assert.equal(head.status, 204);
  assert.equal(head.headers.get('upload-complete'), '?1');
  assert.equal(head.headers.get('upload-length'), '0');
});

test('the 104 interim response reaches node:http as an information event with the Location', async (t) => {
  const { url } = await setup(t);
  const body = Buffer.from('first part');
  const interim: http.InformationEvent[] = [];
  const final = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${url}/music/info.txt`, {
      method: 'POST',
      agent: false,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Upload-Draft-Interop-Version': '6',
        'Upload-Complete': '?0',
        'Content-Length': String(body.length),
      },
    });
    req.on('information', (info) => interim.push(info));
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
  final.resume();
  await waitFor('the response end', () => final.complete);
  assert.equal(interim.length, 1);
  assert.equal(interim[0]?.statusCode, 104);
  assert.equal(interim[0]?.headers['upload-draft-interop-version'], '6');
  assert.match(String(interim[0]?.headers.location), /^\/\.uploads\/[A-Za-z0-9_-]{22}$/);
  assert.equal(final.statusCode, 201);
  assert.equal(final.headers.location, interim[0]?.headers.location);
  assert.equal(final.headers['upload-offset'], String(body.length));
  // Interop 6 names the lifetime `expires` (24 h by default).
  assert.match(String(interim[0]?.headers['upload-limit']), /expires=86400/);
});
