/**
 * The proof of statelessness (issue 14): two `ranged serve s3://…` processes on two ports, one
 * bucket on a real Ceph RGW. An upload begun on the first; the first killed with `kill -9` in the
 * middle of a PATCH; the client continues on the second from the offset the second reports; the
 * object is byte-identical and is served with ranges by both (the first restarted).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { type TestS3, useCeph } from '../helpers/ceph.js';
import { killServeCli, startServeCli } from '../helpers/cli.js';
import { rawGet } from '../helpers/raw-http.js';
import { createUpload, headUpload, patchUpload, streamPatch } from '../helpers/tus-stream.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const TOKEN = 'cluster-token';
let ceph: TestS3;

before(async () => {
  ceph = await useCeph();
});
after(async () => {
  await ceph?.stop();
});

function env(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...ceph.env };
}

async function serve(t: {
  after(fn: () => unknown): void;
}): Promise<{ child: ChildProcess; origin: string }> {
  const { child, url } = await startServeCli(
    `s3://${ceph.bucket}/shared`,
    ['--quiet', '--uploads', '--upload-token', TOKEN],
    { env: env(), timeoutMs: 30_000 },
  );
  child.on('error', () => {});
  t.after(() => killServeCli(child));
  return { child, origin: url };
}

/** Writes `data` in 64 KiB pieces, each after the last was taken by the socket. */
async function writeAll(patch: ReturnType<typeof streamPatch>, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    await patch.write(data.subarray(at, at + 64 * 1024));
  }
}

test('kill -9 of one server mid-PATCH: another server of the bucket reports the offset and finishes the upload', async (t) => {
  const source = bytes(40 * MiB + 777, 5);
  const first = await serve(t);
  const second = await serve(t);
  const { url, id } = await createUpload(first.origin, TOKEN, source.length, 'video/trip.mp4');
  assert.match(url, /\/\.uploads\//);
  const path = new URL(url).pathname;

  // The first server streams the body into the store; the second sees the offset grow.
  const patch = streamPatch(url, TOKEN, 0, source.length);
  await writeAll(patch, source.subarray(0, 24 * MiB));
  await waitFor(
    "the second server reporting stored bytes of the first one's PATCH",
    async () => (await headUpload(`${second.origin}${path}`, TOKEN)).offset >= 8 * MiB,
    { timeoutMs: 30_000 },
  );
  assert.equal(patch.ended(), undefined, 'the PATCH is still sending');
  const exited = once(first.child, 'exit');
  first.child.kill('SIGKILL');
  await exited;
  const ending = await patch.ending;
  assert.equal(ending.kind, 'error', 'the PATCH was cut by the kill, not answered');

  // The client goes on with the second server, from the offset the second reports.
  const head = await headUpload(`${second.origin}${path}`, TOKEN);
  assert.equal(head.status, 200);
  assert.ok(head.offset >= 8 * MiB && head.offset <= 24 * MiB, `offset ${head.offset}`);
  const rest = await patchUpload(
    `${second.origin}${path}`,
    TOKEN,
    head.offset,
    source.subarray(head.offset),
  );
  assert.equal(rest.status, 204, rest.body);
  assert.equal(rest.headers['upload-offset'], String(source.length));

  // Served with ranges by both: the second, and the first restarted.
  const again = await serve(t);
  for (const origin of [second.origin, again.origin]) {
    const whole = await rawGet(origin, '/video/trip.mp4');
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(source), `byte-identical from ${origin}`);
    const range = await rawGet(origin, '/video/trip.mp4', {
      Range: `bytes=${20 * MiB}-${20 * MiB + 99}`,
    });
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, source.subarray(20 * MiB, 20 * MiB + 100));
  }
  // The upload's state is gone from listings and its HEAD says it is done.
  const listing = await rawGet(second.origin, '/', { Accept: 'application/json' });
  assert.doesNotMatch(listing.body.toString(), /ranged-uploads/);
  assert.equal((await headUpload(`${again.origin}${path}`, TOKEN)).offset, source.length);
  assert.ok(id.length > 0);
});
