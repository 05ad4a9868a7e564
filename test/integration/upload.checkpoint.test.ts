/**
 * Checkpoints (core/upload/record.ts, server/uploads/checkpoints.ts): while PATCHes stream in, an
 * upload's bytes are synced and recorded at most once per sync interval, in the background; between checkpoints the same boot trusts the data file,
 * and after a (simulated) reboot only the last checkpoint counts. Completion always syncs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import { bytes } from '../helpers/bytes.js';
import { createUpload, headUpload, patchUpload } from '../helpers/tus-stream.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'checkpoint-token';
const MiB = 1024 * 1024;

async function serve(dir: string, syncInterval: number) {
  return startServer({ root: dir, port: 0, uploads: { token: TOKEN, syncInterval } });
}

async function record(dir: string, id: string): Promise<{ durable: number; boot: string }> {
  return JSON.parse(await readFile(join(dir, '.ranged-uploads', 'u', id, 'info.json'), 'utf8'));
}

test('upload checkpoints: the first PATCH syncs, the next within the interval does not; HEAD still gives every byte in the same boot, only the checkpoint after a reboot', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ranged-checkpoint-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = bytes(6 * MiB, 3);
  let server = await serve(dir, 3_600_000);
  t.after(() => server.close());
  const { url, id } = await createUpload(server.url, TOKEN, source.length, 'cp.bin');
  const first = await patchUpload(url, TOKEN, 0, source.subarray(0, 2 * MiB));
  assert.equal(first.status, 204, first.body);
  // The first PATCH starts a checkpoint, which ends in the background.
  await waitFor('the first checkpoint', async () => (await record(dir, id)).durable === 2 * MiB);
  const second = await patchUpload(url, TOKEN, 2 * MiB, source.subarray(2 * MiB, 4 * MiB));
  assert.equal(second.status, 204, second.body);
  assert.equal((await record(dir, id)).durable, 2 * MiB, 'no checkpoint within the interval');
  assert.equal((await headUpload(url, TOKEN)).offset, 4 * MiB, 'the same boot trusts the data');

  // A reboot, simulated on the stopped server: only the checkpoint survives.
  await server.close();
  const infoPath = join(dir, '.ranged-uploads', 'u', id, 'info.json');
  const info = JSON.parse(await readFile(infoPath, 'utf8'));
  await writeFile(infoPath, JSON.stringify({ ...info, boot: 'another-boot' }));
  server = await serve(dir, 3_600_000);
  const resumed = `${server.url}/.uploads/${id}`;
  assert.equal((await headUpload(resumed, TOKEN)).offset, 2 * MiB);
  const rest = await patchUpload(resumed, TOKEN, 2 * MiB, source.subarray(2 * MiB));
  assert.equal(rest.status, 204, rest.body);
  assert.ok(
    (await readFile(join(dir, 'cp.bin'))).equals(source),
    'byte-identical after completion',
  );
});

test('upload checkpoints: with a sync interval of 0 every PATCH is one', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ranged-checkpoint-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = bytes(3 * MiB, 4);
  const server = await serve(dir, 0);
  t.after(() => server.close());
  const { url, id } = await createUpload(server.url, TOKEN, source.length, 'every.bin');
  for (let i = 0; i < 2; i++) {
    const res = await patchUpload(url, TOKEN, i * MiB, source.subarray(i * MiB, (i + 1) * MiB));
    assert.equal(res.status, 204, res.body);
    await waitFor(
      `checkpoint ${i + 1}`,
      async () => (await record(dir, id)).durable === (i + 1) * MiB,
    );
  }
});
