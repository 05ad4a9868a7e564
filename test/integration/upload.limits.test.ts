/**
 * Issue 12, "What may never happen": unbounded resources and a completion that skips authorization.
 * A trickling PATCH is cut by the minimum speed (its bytes kept, its lock freed); the number of
 * unfinished uploads, the bytes they claim and the metadata size have limits with clear errors; a
 * full disk answers 507 and loses nothing stored; the completing PATCH needs the token like any
 * other. The library's startServer() with `uploads` options, raw tus requests over node:http.
 */
import assert from 'node:assert/strict';
import { open, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setInterval } from 'node:timers';
import { type RunningServer, startServer } from '../../src/index.js';
import type { UploadOptions } from '../../src/server/uploads/uploads.js';
import { bytes } from '../helpers/bytes.js';
import { smallDisk } from '../helpers/small-disk.js';
import { makeTree } from '../helpers/tree.js';
import {
  createUpload,
  dataPath,
  filenameMetadata,
  headUpload,
  patchUpload,
  send,
  sizeOf,
  streamPatch,
  tusHeaders,
} from '../helpers/tus-stream.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'limits-test-token';
const KiB = 1024;
const MiB = 1024 * KiB;

type T = { after(fn: () => Promise<void> | void): void };

async function serve(
  t: T,
  uploads: Partial<UploadOptions>,
  root?: string,
): Promise<{ dir: string; running: RunningServer }> {
  let dir = root;
  if (dir === undefined) {
    const tree = await makeTree({});
    t.after(tree.cleanup);
    dir = tree.dir;
  }
  dir = await realpath(dir);
  const running = await startServer({ root: dir, port: 0, uploads: { token: TOKEN, ...uploads } });
  t.after(async () => {
    running.closeAllConnections();
    await running.close();
  });
  return { dir, running };
}

function create(origin: string, length: number, metadata: string) {
  return send(
    `${origin}/.uploads/`,
    'POST',
    tusHeaders(TOKEN, { 'Upload-Length': String(length), 'Upload-Metadata': metadata }),
  );
}

async function unfinished(dir: string): Promise<string[]> {
  return readdir(join(dir, '.ranged-uploads', 'u'));
}

test('upload: a PATCH trickling below the minimum speed is cut; its bytes are kept and the lock is free', async (t) => {
  const { dir, running } = await serve(t, { minSpeed: 100_000, speedWindow: 500 });
  const source = bytes(256 * KiB, 31);
  const { url, id } = await createUpload(running.url, TOKEN, source.length, 'slow.bin');
  const patch = streamPatch(url, TOKEN, 0, source.length);
  let sent = 0;
  const started = performance.now();
  // The client's pace, not a wait: 1 KiB every 100 ms (10 KiB/s, a tenth of the floor).
  const trickle = setInterval(() => {
    if (patch.ended() !== undefined || patch.closed()) return;
    const piece = source.subarray(sent, sent + KiB);
    sent += piece.length;
    void patch.write(piece);
  }, 100);
  t.after(() => clearInterval(trickle));
  await waitFor('the slow PATCH cut off', () => patch.ended() !== undefined || patch.closed(), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  clearInterval(trickle);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 4 * 500 + 1_500, `cut after ${Math.round(elapsed)} ms, within a few windows`);
  const ending = patch.ended();
  if (ending?.kind === 'response') assert.equal(ending.status, 408);

  const head = await headUpload(url, TOKEN, { timeoutMs: 5_000 });
  assert.equal(head.status, 200);
  assert.ok(head.offset > 0, 'the trickled bytes were kept');
  assert.ok(head.offset <= sent, `offset ${head.offset} is no more than the ${sent} bytes sent`);
  const stored = await readFile(dataPath(dir, id));
  assert.ok(head.offset <= stored.length);
  assert.ok(stored.subarray(0, head.offset).equals(source.subarray(0, head.offset)));

  // The lock is free: a PATCH at full speed finishes the upload.
  const rest = await patchUpload(url, TOKEN, head.offset, source.subarray(head.offset));
  assert.equal(rest.status, 204, rest.body);
  assert.ok((await readFile(join(dir, 'slow.bin'))).equals(source), 'byte-identical');
});

test('upload: maxUploads refuses one more unfinished upload with 503 and a clear text', async (t) => {
  const { dir, running } = await serve(t, { maxUploads: 2 });
  const a = await createUpload(running.url, TOKEN, 10, 'a.bin');
  await createUpload(running.url, TOKEN, 10, 'b.bin');
  const third = await create(running.url, 10, filenameMetadata('c.bin'));
  assert.equal(third.status, 503);
  assert.match(third.body, /too many unfinished uploads \(the limit is 2\)/);
  assert.equal(third.headers['retry-after'], '60');
  assert.equal((await unfinished(dir)).length, 2, 'nothing was created');
  await assert.rejects(readFile(join(dir, 'c.bin')), { code: 'ENOENT' });
  // Finishing one makes room.
  const done = await patchUpload(a.url, TOKEN, 0, bytes(10, 1));
  assert.equal(done.status, 204, done.body);
  assert.ok((await readFile(join(dir, 'a.bin'))).equals(bytes(10, 1)));
  const again = await create(running.url, 10, filenameMetadata('c.bin'));
  assert.equal(again.status, 201, again.body);
});

test('upload: maxPendingBytes refuses a creation that would claim too much with 507', async (t) => {
  const { dir, running } = await serve(t, { maxPendingBytes: MiB });
  const big = await create(running.url, 2 * MiB, filenameMetadata('big.bin'));
  assert.equal(big.status, 507);
  assert.match(big.body, /unfinished uploads would hold more than 1048576 bytes/);
  assert.deepEqual(await unfinished(dir), []);
  const half = await createUpload(running.url, TOKEN, 512 * KiB, 'half.bin');
  // What unfinished uploads still claim counts: 512 KiB + 600 KiB is past 1 MiB.
  const more = await create(running.url, 600 * KiB, filenameMetadata('more.bin'));
  assert.equal(more.status, 507);
  // Stored bytes no longer count as claimed: with 256 KiB of half.bin stored, 600 KiB fits.
  const piece = bytes(256 * KiB, 2);
  assert.equal((await patchUpload(half.url, TOKEN, 0, piece)).status, 204);
  const fits = await create(running.url, 600 * KiB, filenameMetadata('more.bin'));
  assert.equal(fits.status, 201, fits.body);
  assert.equal((await unfinished(dir)).length, 2);
});

test('upload: Upload-Metadata above 4096 characters is 431 and nothing is stored', async (t) => {
  const { dir, running } = await serve(t, {});
  const metadata = `${filenameMetadata('m.bin')},note ${'A'.repeat(4100)}`;
  assert.ok(metadata.length > 4096);
  const res = await create(running.url, 10, metadata);
  assert.equal(res.status, 431);
  assert.match(res.body, /Upload-Metadata above 4096 characters/);
  assert.deepEqual(await unfinished(dir), []);
  // At the cap is fine (the note in valid base64: a multiple of 4 characters).
  const room = 4096 - `${filenameMetadata('m.bin')},note `.length;
  const fits = `${filenameMetadata('m.bin')},note ${'A'.repeat(room - (room % 4))}`;
  assert.ok(fits.length <= 4096);
  const ok = await create(running.url, 10, fits);
  assert.equal(ok.status, 201, ok.body);
});

test('upload: a full disk answers 507 and loses nothing stored; the upload resumes once there is room', async (t) => {
  const disk = smallDisk(t, '4m');
  if (disk === undefined) {
    t.skip('needs a small tmpfs (root and mount allowed), not available here');
    return;
  }
  const { dir, running } = await serve(t, {}, disk);
  const source = bytes(3 * MiB, 41);
  const { url, id } = await createUpload(running.url, TOKEN, source.length, 'full.bin');
  const first = await patchUpload(url, TOKEN, 0, source.subarray(0, MiB));
  assert.equal(first.status, 204, first.body);
  // Fill the disk to the last block.
  const fillerPath = join(dir, 'filler');
  const filler = await open(fillerPath, 'w');
  let filled = 0;
  for (;;) {
    const wrote = await filler.write(Buffer.alloc(64 * KiB, 0x55)).then(
      (r) => r.bytesWritten,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOSPC') throw error;
        return 0;
      },
    );
    if (wrote === 0) break;
    filled += wrote;
  }
  await filler.close();
  assert.ok(filled > 0);

  const rest = source.subarray(MiB);
  const full = await patchUpload(url, TOKEN, MiB, rest);
  assert.equal(full.status, 507, full.body);
  assert.match(full.body, /disk is full/);
  assert.ok(Number(full.headers['upload-offset']) >= MiB);
  const head = await headUpload(url, TOKEN);
  assert.equal(head.status, 200);
  assert.ok(head.offset >= MiB, `offset ${head.offset}: nothing stored before was lost`);
  const stored = await readFile(dataPath(dir, id));
  assert.ok(head.offset <= stored.length);
  assert.ok(stored.subarray(0, head.offset).equals(source.subarray(0, head.offset)));
  await assert.rejects(readFile(join(dir, 'full.bin')), { code: 'ENOENT' });
  // No half-written record was left in the upload's folder.
  const names = await readdir(join(dir, '.ranged-uploads', 'u', id));
  assert.deepEqual(names.sort(), ['data', 'info.json']);

  await rm(fillerPath);
  const done = await patchUpload(url, TOKEN, head.offset, source.subarray(head.offset));
  assert.equal(done.status, 204, done.body);
  assert.ok((await readFile(join(dir, 'full.bin'))).equals(source), 'byte-identical');
  assert.equal(await sizeOf(dataPath(dir, id)), -1);
});

test('upload: the completing PATCH with a wrong token is 401 and the file does not appear', async (t) => {
  const { dir, running } = await serve(t, {});
  const source = bytes(MiB, 51);
  const { url } = await createUpload(running.url, TOKEN, source.length, 'sub/t.bin');
  const half = 512 * KiB;
  assert.equal((await patchUpload(url, TOKEN, 0, source.subarray(0, half))).status, 204);
  for (const token of ['wrong-token-value', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
    const last = await patchUpload(url, token, half, source.subarray(half));
    assert.equal(last.status, 401, `token ${token}`);
    assert.match(String(last.headers['www-authenticate']), /^Bearer/);
    await assert.rejects(readFile(join(dir, 'sub/t.bin')), { code: 'ENOENT' });
  }
  const none = await send(
    url,
    'PATCH',
    {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': String(half),
      'Content-Type': 'application/offset+octet-stream',
    },
    source.subarray(half),
  );
  assert.equal(none.status, 401);
  await assert.rejects(readFile(join(dir, 'sub/t.bin')), { code: 'ENOENT' });
  assert.equal((await headUpload(url, TOKEN)).offset, half, 'nothing was stored without the token');

  const right = await patchUpload(url, TOKEN, half, source.subarray(half));
  assert.equal(right.status, 204, right.body);
  assert.ok((await readFile(join(dir, 'sub/t.bin'))).equals(source), 'byte-identical');
});
