/**
 * Issue 12: a request refused before its body is read (401, 409, 415, 413 by Content-Length) must
 * reach the client as that status, not as a reset connection while the client is still sending:
 * the server half-closes and discards what still arrives (RFC 9112 §9.6), and sends 100 (Continue)
 * only to a request it is about to read (RFC 9110 §10.1.1). Each refusal is repeated, since a
 * reset lost about 1 in 7 of them.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { makeTree } from '../helpers/tree.js';
import {
  serveUploads,
  type TusResponse,
  tusCreate,
  tusMetadata,
  tusPatch,
  tusRequest,
  unfinishedIds,
} from '../helpers/tus.js';

const TOKEN = 'refusal-token-3c4d5e';
const MiB = 1 << 20;
const ROUNDS = 15;

/** Runs `send` ROUNDS times; every answer must be `status` (an EPIPE or ECONNRESET fails). */
async function always(status: number, what: string, send: () => Promise<TusResponse>) {
  for (let i = 0; i < ROUNDS; i++) {
    const res = await send().catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${what}, round ${i}: ${e.code ?? e.message} instead of ${status}`);
    });
    assert.equal(res.status, status, `${what}, round ${i}`);
  }
}

test('tus PATCH refused before a 4 MiB body (401, 409, 415, 413): the client always reads the status', async (t) => {
  const tree = await makeTree({});
  t.after(tree.cleanup);
  const url = await serveUploads(t, tree.dir, TOKEN);
  const length = 16 * MiB;
  const res = await tusCreate(url, TOKEN, {
    'Upload-Length': String(length),
    'Upload-Metadata': tusMetadata({ filename: 'r.bin' }),
  });
  assert.equal(res.status, 201);
  const path = res.path as string;
  const body = bytes(4 * MiB, 6);
  await always(401, 'PATCH without the token', () => tusPatch(url, null, path, 0, body));
  await always(401, 'PATCH with a wrong token', () => tusPatch(url, 'wrong-token', path, 0, body));
  await always(409, 'PATCH at a wrong offset', () => tusPatch(url, TOKEN, path, 7, body));
  await always(415, 'PATCH with another Content-Type', () =>
    tusPatch(url, TOKEN, path, 0, body, { 'Content-Type': 'application/octet-stream' }),
  );
  const over = bytes(length + 1, 6);
  await always(413, 'PATCH past the length', () => tusPatch(url, TOKEN, path, 0, over));
  // Nothing of those bodies was stored; the right PATCH still works on the same server.
  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(head.headers['upload-offset'], '0');
  const whole = bytes(length, 2);
  assert.equal((await tusPatch(url, TOKEN, path, 0, whole)).status, 204);
  assert.deepEqual(await readFile(join(tree.dir, 'r.bin')), whole);
});

test('PUT refused before a 4 MiB body (401, 409, 413 by Content-Length), without Expect: the client always reads the status', async (t) => {
  const tree = await makeTree({ 'there.bin': 'old' });
  t.after(tree.cleanup);
  const url = await serveUploads(t, tree.dir, TOKEN, ['--max-upload-size', '8M']);
  const body = bytes(4 * MiB, 1);
  const put =
    (path: string, token: string | null, data = body) =>
    () =>
      tusRequest(url, 'PUT', path, { token, body: data, headers: { 'Tus-Resumable': undefined } });
  await always(401, 'PUT without the token', put('/new.bin', null));
  await always(409, 'PUT over an existing file', put('/there.bin', TOKEN));
  await always(413, 'PUT above --max-upload-size', put('/new.bin', TOKEN, bytes(9 * MiB)));
  assert.equal(await readFile(join(tree.dir, 'there.bin'), 'utf8'), 'old');
  assert.deepEqual(await unfinishedIds(tree.dir), []);
});
