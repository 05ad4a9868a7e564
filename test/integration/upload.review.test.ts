/**
 * Issue 12 review: defects found by sending real requests to `ranged serve DIR --uploads`, each
 * pinned here: a name longer than the file system allows is a bad filename (400, nothing written),
 * never a 500; 460 carries its reason phrase; a tus 413 names the limit (Tus-Max-Size).
 */
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  servedTree,
  serveUploads,
  tusChecksum,
  tusCreate,
  tusMetadata,
  tusPatch,
  tusRequest,
  unfinishedIds,
} from '../helpers/tus.js';

const TOKEN = 'review-token-1234';

async function folder(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ranged-review-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The status line's reason phrase of a request (node:http keeps it as statusMessage). */
function reasonOf(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
) {
  return new Promise<{ status: number; reason: string }>((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '' }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('uploads review: a name segment above 255 bytes is 400 (tus, draft, PUT), never a 500, and nothing is written', async (t) => {
  const dir = await folder(t);
  const origin = await serveUploads(t, dir, TOKEN);
  const long = 'a'.repeat(256);
  for (const name of [long, `x/${long}/y`, `${'é'.repeat(128)}`]) {
    const res = await tusCreate(origin, TOKEN, {
      'Upload-Length': '3',
      'Upload-Metadata': tusMetadata({ filename: name }),
    });
    assert.equal(res.status, 400, `tus ${name.slice(0, 20)}: ${res.body}`);
    assert.equal(res.headers['tus-resumable'], '1.0.0');
  }
  const put = await tusRequest(origin, 'PUT', `/${long}`, {
    token: TOKEN,
    headers: { 'Tus-Resumable': undefined },
    body: Buffer.from('abc'),
  });
  assert.equal(put.status, 400, put.body.toString());
  const draft = await tusRequest(origin, 'POST', `/d/${long}/f`, {
    token: TOKEN,
    headers: {
      'Tus-Resumable': undefined,
      'Upload-Draft-Interop-Version': '9',
      'Upload-Complete': '?1',
    },
    body: Buffer.from('abc'),
  });
  assert.equal(draft.status, 400, draft.body.toString());
  // 255 bytes is still a name.
  const ok = await tusCreate(origin, TOKEN, {
    'Upload-Length': '0',
    'Upload-Metadata': tusMetadata({ filename: 'b'.repeat(255) }),
  });
  assert.equal(ok.status, 201, ok.body.toString());
  assert.deepEqual(await servedTree(dir), ['b'.repeat(255)]);
  assert.deepEqual(await unfinishedIds(dir), []);
});

test('uploads review: 460 says Checksum Mismatch; a tus 413 carries Tus-Max-Size', async (t) => {
  const dir = await folder(t);
  const origin = await serveUploads(t, dir, TOKEN, ['--max-upload-size', '1K']);
  const created = await tusCreate(origin, TOKEN, {
    'Upload-Length': '6',
    'Upload-Metadata': tusMetadata({ filename: 'c.txt' }),
  });
  assert.equal(created.status, 201);
  const path = created.path as string;
  const bad = await reasonOf(
    origin,
    'PATCH',
    path,
    {
      Authorization: `Bearer ${TOKEN}`,
      'Tus-Resumable': '1.0.0',
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': '0',
      'Upload-Checksum': tusChecksum('sha1', Buffer.from('xyz')),
    },
    Buffer.from('abc'),
  );
  assert.deepEqual(bad, { status: 460, reason: 'Checksum Mismatch' });
  const big = await tusCreate(origin, TOKEN, {
    'Upload-Length': '2048',
    'Upload-Metadata': tusMetadata({ filename: 'big.bin' }),
  });
  assert.equal(big.status, 413);
  assert.equal(big.headers['tus-max-size'], '1024');
  const deferred = await tusCreate(origin, TOKEN, {
    'Upload-Defer-Length': '1',
    'Upload-Metadata': tusMetadata({ filename: 'd.bin' }),
  });
  const past = await tusPatch(origin, TOKEN, deferred.path as string, 0, Buffer.alloc(2048));
  assert.equal(past.status, 413);
  assert.equal(past.headers['tus-max-size'], '1024');
  assert.equal(past.headers['tus-resumable'], '1.0.0');
});

test('uploads review: a finished upload gets the permissions of any new file (umask), not 0600', async (t) => {
  const dir = await folder(t);
  const origin = await serveUploads(t, dir, TOKEN);
  const put = await tusRequest(origin, 'PUT', '/shared.txt', {
    token: TOKEN,
    headers: { 'Tus-Resumable': undefined },
    body: Buffer.from('abc'),
  });
  assert.equal(put.status, 201, put.body.toString());
  const umask = process.umask();
  assert.equal((await stat(join(dir, 'shared.txt'))).mode & 0o777, 0o666 & ~umask);
  // The unfinished data stays private: its folder is the owner's only.
  const made = await tusCreate(origin, TOKEN, {
    'Upload-Length': '9',
    'Upload-Metadata': tusMetadata({ filename: 'later.txt' }),
  });
  assert.equal(made.status, 201);
  const [id] = await unfinishedIds(dir);
  assert.equal((await stat(join(dir, '.ranged-uploads', 'u', id as string))).mode & 0o077, 0);
});
