/**
 * A target that appears while its upload runs is never replaced (issue 12), and the refused upload
 * does not linger with offset = length (which a tus client reads as done, issue 13): the completing
 * PATCH is 409, the upload is terminated (HEAD 410), the file there is untouched.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { makeTree } from '../helpers/tree.js';
import {
  serveUploads,
  tusCreate,
  tusMetadata,
  tusPatch,
  tusRequest,
  unfinishedIds,
} from '../helpers/tus.js';

const TOKEN = 'refused-completion-token';

test('tus: a completing PATCH whose target appeared meanwhile is 409, the upload is terminated, the file there untouched', async (t) => {
  const tree = await makeTree({});
  t.after(tree.cleanup);
  const url = await serveUploads(t, tree.dir, TOKEN);
  const source = bytes(200_000, 3);
  const created = await tusCreate(url, TOKEN, {
    'Upload-Length': String(source.length),
    'Upload-Metadata': tusMetadata({ filename: 'late.bin' }),
  });
  assert.equal(created.status, 201);
  const path = created.path as string;
  assert.equal((await tusPatch(url, TOKEN, path, 0, source.subarray(0, 100_000))).status, 204);
  // Someone else writes the file by hand while the upload runs.
  await writeFile(join(tree.dir, 'late.bin'), 'written by hand');
  const last = await tusPatch(url, TOKEN, path, 100_000, source.subarray(100_000));
  assert.equal(last.status, 409);
  assert.equal(await readFile(join(tree.dir, 'late.bin'), 'utf8'), 'written by hand');
  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 410, 'terminated, not left at offset = length');
  assert.equal(head.headers['upload-offset'], undefined);
  assert.deepEqual(await unfinishedIds(tree.dir), [], 'its data is gone');
});
