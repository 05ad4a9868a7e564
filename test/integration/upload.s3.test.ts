/**
 * Uploads kept in an S3 bucket (sources/s3-upload-store.ts) on a real Ceph RADOS Gateway: tus and
 * the IETF draft through createUploads() on plain node:http servers, two of them on the same bucket
 * for the cases that need two servers, and the store itself where a test must hold a body midway.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Location } from '../../src/core/s3-location.js';
import { decodeRecord } from '../../src/core/upload/record.js';
import { connectS3, type S3Connection } from '../../src/server/sources/s3-client.js';
import { S3_UPLOAD_PREFIX } from '../../src/server/sources/s3-upload-bucket.js';
import { S3UploadStore, s3UploadStore } from '../../src/server/sources/s3-upload-store.js';
import { newUploadId } from '../../src/server/uploads/file-store.js';
import type { FileStoreOptions } from '../../src/server/uploads/store-types.js';
import { createUploads, type UploadOptions } from '../../src/server/uploads/uploads.js';
import { type TestS3, useCeph } from '../helpers/ceph.js';
import { tusChecksum, tusCreate, tusMetadata, tusPatch, tusRequest } from '../helpers/tus.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 's3-upload-token';
const MiB = 1024 * 1024;
const V9 = { 'Upload-Draft-Interop-Version': '9' };

let ceph: TestS3;
let conn: S3Connection;

before(async () => {
  ceph = await useCeph();
  conn = await connectS3({ env: ceph.env });
});

after(async () => {
  conn?.client.destroy();
  await ceph?.stop();
});

/** A folder of the bucket of its own for each test (`s3://BUCKET/tN-xxxx/`). */
let places = 0;
function place(): S3Location {
  places++;
  return { bucket: ceph.bucket, prefix: `t${places}-${randomBytes(3).toString('hex')}/` };
}

const storeOptions: FileStoreOptions = {
  dotfiles: false,
  maxUploads: 100,
  maxPendingBytes: undefined,
  syncInterval: 1000,
  now: Date.now,
};

/** A node:http server with the uploads of `location` (404 for anything else); its origin. */
async function serve(
  t: { after(fn: () => unknown): void },
  location: S3Location,
  options: Partial<UploadOptions> = {},
  connection: S3Connection = conn,
): Promise<string> {
  const uploads = createUploads(
    s3UploadStore(connection, location),
    { token: TOKEN, ...options },
    false,
  );
  const server = http.createServer((req, res) => {
    uploads.handle(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'Content-Length': '0' }).end();
      },
      (error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { Connection: 'close' });
        res.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    uploads.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The object's bytes, or undefined when there is none. */
async function object(key: string): Promise<Buffer | undefined> {
  try {
    const out = await ceph.client.send(new GetObjectCommand({ Bucket: ceph.bucket, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function putObject(key: string, body: Buffer | string): Promise<void> {
  await ceph.client.send(new PutObjectCommand({ Bucket: ceph.bucket, Key: key, Body: body }));
}

/** Every key under `prefix`, sorted. */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await ceph.client.send(
      new ListObjectsV2Command({ Bucket: ceph.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** The keys of the unfinished multipart uploads under `prefix`. */
async function multipartUploads(prefix: string): Promise<string[]> {
  const out = await ceph.client.send(
    new ListMultipartUploadsCommand({ Bucket: ceph.bucket, Prefix: prefix }),
  );
  return (out.Uploads ?? []).map((u) => u.Key ?? '');
}

/** The finished record of upload `id` (f/ID.json). */
async function finished(location: S3Location, id: string) {
  const text = await object(`${location.prefix}${S3_UPLOAD_PREFIX}f/${id}.json`);
  return text === undefined ? undefined : decodeRecord(text.toString('utf8'));
}

/** Keys under the folder that are not upload state. */
async function servedKeys(location: S3Location): Promise<string[]> {
  const keys = await keysUnder(location.prefix);
  return keys
    .map((k) => k.slice(location.prefix.length))
    .filter((k) => !k.startsWith(S3_UPLOAD_PREFIX));
}

/** A tus creation of `length` bytes named `filename`; the upload's path and id. */
async function create(origin: string, length: number, filename: string) {
  const res = await tusCreate(origin, TOKEN, {
    'Upload-Length': String(length),
    'Upload-Metadata': tusMetadata({ filename }),
  });
  assert.equal(res.status, 201, res.body.toString());
  const path = res.path as string;
  return { path, id: path.slice(path.lastIndexOf('/') + 1) };
}

async function headOffset(origin: string, path: string): Promise<number> {
  const head = await tusRequest(origin, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 200);
  return Number(head.headers['upload-offset']);
}

/** Append options for the store itself. */
function appendOptions(limit: number) {
  return { limit, signal: new AbortController().signal };
}

test('tus: 20 MiB in three PATCHes of odd sizes, the object appears whole and only at the end', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const data = randomBytes(20 * MiB);
  const { path, id } = await create(origin, data.length, 'big.bin');
  const cuts = [0, 7 * MiB + 3, 16 * MiB - 4, data.length];
  for (let i = 0; i < 3; i++) {
    const from = cuts[i] as number;
    const to = cuts[i + 1] as number;
    assert.equal(await headOffset(origin, path), from);
    if (i > 0) assert.equal(await object(`${location.prefix}big.bin`), undefined);
    const res = await tusPatch(origin, TOKEN, path, from, data.subarray(from, to));
    assert.equal(res.status, 204, res.body.toString());
    assert.equal(res.headers['upload-offset'], String(to));
  }
  const stored = await object(`${location.prefix}big.bin`);
  assert.ok(stored?.equals(data), 'the object is byte-identical');
  assert.deepEqual(await servedKeys(location), ['big.bin']);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`), []);
  assert.deepEqual(await multipartUploads(location.prefix), []);
  assert.equal((await finished(location, id))?.status, 'complete');
  // A finished upload still answers HEAD with its offset (a lost last response can be learned).
  assert.equal(await headOffset(origin, path), data.length);
});

test('tus: a 100 KiB upload lives in a tail object only; an empty upload is complete at creation', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const small = randomBytes(100 * 1024);
  const { path } = await create(origin, small.length, 'small.bin');
  assert.equal((await tusPatch(origin, TOKEN, path, 0, small.subarray(0, 40_000))).status, 204);
  const state = await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`);
  assert.equal(state.filter((k) => /\/tail-/.test(k)).length, 1, state.join(' '));
  assert.deepEqual(await multipartUploads(location.prefix), []);
  assert.equal((await tusPatch(origin, TOKEN, path, 40_000, small.subarray(40_000))).status, 204);
  assert.ok((await object(`${location.prefix}small.bin`))?.equals(small));

  const empty = await tusCreate(origin, TOKEN, {
    'Upload-Length': '0',
    'Upload-Metadata': tusMetadata({ filename: 'empty.bin' }),
  });
  assert.equal(empty.status, 201);
  assert.equal((await object(`${location.prefix}empty.bin`))?.length, 0);
  assert.deepEqual(await servedKeys(location), ['empty.bin', 'small.bin']);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`), []);
});

test('tus: a PATCH that stops midway while its part streams to the store keeps what arrived as the tail', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const data = randomBytes(12 * MiB + 7);
  const { path } = await create(origin, data.length, 'cut.bin');
  // The body declares every byte (so the first part goes to the store as it arrives), sends 5 MiB
  // and ends its half of the connection: the server reads those bytes, then an early end.
  const sent = 5 * MiB;
  await new Promise<void>((resolve) => {
    const { hostname, port } = new URL(origin);
    const req = http.request({
      host: hostname,
      port,
      method: 'PATCH',
      path,
      agent: false,
      headers: {
        'Tus-Resumable': '1.0.0',
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': '0',
        'Content-Length': String(data.length),
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.on('response', (res) => res.resume());
    req.flushHeaders();
    req.write(data.subarray(0, sent), () => req.socket?.end());
  });
  // What arrived counts (tus: the server SHOULD keep the bytes of an interrupted PATCH); the part
  // given up left nothing in the store, so the rest completes the upload byte-identical.
  await waitFor(
    'the offset of the interrupted PATCH',
    async () => (await headOffset(origin, path)) === sent,
  );
  const tail = await tusPatch(origin, TOKEN, path, sent, data.subarray(sent));
  assert.equal(tail.status, 204, tail.body.toString());
  assert.ok((await object(`${location.prefix}cut.bin`))?.equals(data), 'byte-identical');
  assert.deepEqual(await multipartUploads(location.prefix), []);
});

test('two servers on one bucket: an upload begun on one is continued and completed on the other', async (t) => {
  const location = place();
  const first = await serve(t, location);
  const second = await serve(t, location);
  const data = randomBytes(11 * MiB + 5);
  const { path } = await create(first, data.length, 'moved.bin');
  const cut = 9 * MiB + 1;
  assert.equal((await tusPatch(first, TOKEN, path, 0, data.subarray(0, cut))).status, 204);
  assert.equal(await headOffset(second, path), cut);
  const last = await tusPatch(second, TOKEN, path, cut, data.subarray(cut));
  assert.equal(last.status, 204, last.body.toString());
  assert.ok((await object(`${location.prefix}moved.bin`))?.equals(data));
  assert.equal(await headOffset(first, path), data.length);
});

test('two servers get a PATCH at the same offset at the same moment: one wins, one is told 409', async (t) => {
  const location = place();
  const first = await serve(t, location);
  const second = await serve(t, location);
  const data = randomBytes(14 * MiB + 77);
  const { path } = await create(first, data.length, 'raced.bin');
  const start = 1 * MiB;
  assert.equal((await tusPatch(first, TOKEN, path, 0, data.subarray(0, start))).status, 204);
  // Both bodies cross a part boundary: both writers buffer, then race for the part number.
  const body = data.subarray(start, start + 10 * MiB);
  const answers = await Promise.all([
    tusPatch(first, TOKEN, path, start, body),
    tusPatch(second, TOKEN, path, start, body),
  ]);
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [204, 409], answers.map((a) => a.body.toString()).join(' | '));
  // The loser recovers with HEAD and goes on from the offset it learns.
  const offset = await headOffset(second, path);
  assert.equal(offset, start + body.length);
  const last = await tusPatch(second, TOKEN, path, offset, data.subarray(offset));
  assert.equal(last.status, 204, last.body.toString());
  assert.ok((await object(`${location.prefix}raced.bin`))?.equals(data));
  assert.deepEqual(await multipartUploads(location.prefix), []);
});

test('store: an append that read the state before another counted its bytes is a conflict', async () => {
  const location = place();
  const one = new S3UploadStore(conn, location, storeOptions);
  const two = new S3UploadStore(conn, location, storeOptions);
  const data = randomBytes(3 * MiB);
  const id = newUploadId();
  const created = await one.create({
    id,
    protocol: 'tus',
    target: ['race.bin'],
    length: data.length,
    metadata: null,
    concat: null,
  });
  assert.equal(created.kind, 'created');
  const onOne = await one.load(id);
  const onTwo = await two.load(id);
  assert.ok(onOne !== undefined && onTwo !== undefined);
  let reading: () => void = () => {};
  const read = new Promise<void>((resolve) => {
    reading = resolve;
  });
  let go: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    go = resolve;
  });
  async function* held() {
    yield data.subarray(0, MiB);
    reading();
    await gate;
    yield data.subarray(MiB, 2 * MiB);
  }
  const slow = one.append(onOne.record, 0, held(), appendOptions(data.length));
  await read;
  const fast = await two.append(
    onTwo.record,
    0,
    Readable.from([data.subarray(0, MiB)]),
    appendOptions(data.length),
  );
  assert.deepEqual(fast.appended, { kind: 'stored', offset: MiB });
  go();
  const lost = await slow;
  assert.deepEqual(lost.appended, { kind: 'conflict', offset: MiB });
  // Its tail object was removed: one tail, the winner's.
  const tails = (await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/${id}/`)).filter((k) =>
    k.includes('/tail-'),
  );
  assert.equal(tails.length, 1);
  const rest = await two.append(
    fast.record,
    MiB,
    Readable.from([data.subarray(MiB)]),
    appendOptions(data.length - MiB),
  );
  assert.deepEqual(rest.appended, { kind: 'stored', offset: data.length });
  assert.equal((await two.complete(rest.record)).kind, 'complete');
  assert.ok((await object(`${location.prefix}race.bin`))?.equals(data));
});

test('store: a part a stopped server claimed and uploaded but never counted is taken over at once and overwritten', async () => {
  const location = place();
  const store = new S3UploadStore(conn, location, storeOptions);
  const data = randomBytes(9 * MiB + 100);
  const id = newUploadId();
  const created = await store.create({
    id,
    protocol: 'tus',
    target: ['stray.bin'],
    length: data.length,
    metadata: null,
    concat: null,
  });
  assert.equal(created.kind, 'created');
  const first = await store.append(
    created.kind === 'created' ? created.record : (undefined as never),
    0,
    Readable.from([data.subarray(0, 9 * MiB)]),
    appendOptions(data.length),
  );
  assert.deepEqual(first.appended, { kind: 'stored', offset: 9 * MiB });
  // Another server claimed part 2, uploaded other bytes as it, and stopped before counting it.
  const stateKey = `${location.prefix}${S3_UPLOAD_PREFIX}u/${id}/state.json`;
  const state = JSON.parse((await object(stateKey))?.toString() ?? '{}');
  assert.equal(state.parts.length, 1);
  await ceph.client.send(
    new UploadPartCommand({
      Bucket: ceph.bucket,
      Key: state.multipart.key,
      UploadId: state.multipart.uploadId,
      PartNumber: 2,
      Body: randomBytes(8 * MiB),
    }),
  );
  // Its claim still runs: a newer request takes it over at once (request-release across
  // servers), uploads part 2 again and counts it.
  await putObject(
    stateKey,
    JSON.stringify({ ...state, claim: { n: 2, token: 'gone', until: Date.now() + 60_000 } }),
  );
  const last = await store.append(
    first.record,
    9 * MiB,
    Readable.from([data.subarray(9 * MiB)]),
    appendOptions(100),
  );
  assert.deepEqual(last.appended, { kind: 'stored', offset: data.length });
  assert.equal((await store.complete(last.record)).kind, 'complete');
  assert.ok((await object(`${location.prefix}stray.bin`))?.equals(data));
  assert.deepEqual(await multipartUploads(location.prefix), []);
});

test('tus termination aborts the multipart upload and removes the upload state', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const data = randomBytes(9 * MiB);
  const { path, id } = await create(origin, 12 * MiB, 'gone.bin');
  assert.equal((await tusPatch(origin, TOKEN, path, 0, data)).status, 204);
  assert.deepEqual(await multipartUploads(location.prefix), [`${location.prefix}gone.bin`]);
  const del = await tusRequest(origin, 'DELETE', path, { token: TOKEN });
  assert.equal(del.status, 204);
  assert.deepEqual(await multipartUploads(location.prefix), []);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/${id}/`), []);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}t/`), []);
  assert.equal((await finished(location, id))?.status, 'terminated');
  const head = await tusRequest(origin, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 410);
  assert.deepEqual(await servedKeys(location), []);
});

test('store: expiry aborts the multipart upload and removes the upload state', async () => {
  const location = place();
  const store = new S3UploadStore(conn, location, storeOptions);
  const id = newUploadId();
  const created = await store.create({
    id,
    protocol: 'ietf',
    target: ['old.bin'],
    length: null,
    metadata: null,
    concat: null,
  });
  assert.equal(created.kind, 'created');
  const body = Readable.from([randomBytes(9 * MiB)]);
  const { record, appended } = await store.append(
    created.kind === 'created' ? created.record : (undefined as never),
    0,
    body,
    appendOptions(Number.MAX_SAFE_INTEGER),
  );
  assert.deepEqual(appended, { kind: 'stored', offset: 9 * MiB });
  assert.deepEqual(await multipartUploads(location.prefix), [`${location.prefix}old.bin`]);
  assert.ok((await store.activeIds()).includes(id));
  await store.end(record, 'expired');
  assert.deepEqual(await multipartUploads(location.prefix), []);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`), []);
  assert.deepEqual(await store.activeIds(), []);
  assert.deepEqual(await store.finishedIds(), [id]);
  assert.equal((await store.load(id))?.record.status, 'expired');
  await store.forget(id);
  assert.equal(await store.load(id), undefined);
});

test('the sweeper expires an idle upload in the bucket: 410, its multipart upload aborted', async (t) => {
  const location = place();
  const origin = await serve(t, location, { expires: 5_000 });
  const { path, id } = await create(origin, 12 * MiB, 'idle.bin');
  assert.equal((await tusPatch(origin, TOKEN, path, 0, randomBytes(9 * MiB))).status, 204);
  assert.deepEqual(await multipartUploads(location.prefix), [`${location.prefix}idle.bin`]);
  await waitFor(
    'the upload expired',
    async () => (await finished(location, id))?.status === 'expired',
  );
  const head = await tusRequest(origin, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 410);
  await waitFor('its state removed', async () => {
    const left = await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`);
    return left.length === 0;
  });
  assert.deepEqual(await multipartUploads(location.prefix), []);
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}t/`), []);
});

test('tus checksum: a mismatch (460) keeps the previous offset; a match then counts', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const data = randomBytes(12 * MiB + 9);
  const { path, id } = await create(origin, data.length, 'sum.bin');
  const first = data.subarray(0, 9 * MiB);
  const wrong = tusChecksum('sha1', Buffer.from('something else'));
  const bad = await tusPatch(origin, TOKEN, path, 0, first, { 'Upload-Checksum': wrong });
  assert.equal(bad.status, 460, bad.body.toString());
  assert.equal(await headOffset(origin, path), 0);
  // Nothing of that body is left: no staged part, no tail.
  const left = await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/${id}/`);
  assert.deepEqual(
    left.map((k) => k.slice(k.lastIndexOf('/') + 1)),
    ['state.json'],
  );
  const good = await tusPatch(origin, TOKEN, path, 0, first, {
    'Upload-Checksum': tusChecksum('sha1', first),
  });
  assert.equal(good.status, 204, good.body.toString());
  assert.equal(await headOffset(origin, path), first.length);
  const rest = data.subarray(first.length);
  const last = await tusPatch(origin, TOKEN, path, first.length, rest, {
    'Upload-Checksum': tusChecksum('sha256', rest),
  });
  assert.equal(last.status, 204, last.body.toString());
  assert.ok((await object(`${location.prefix}sum.bin`))?.equals(data));
});

test('409 for an existing object, at creation and at completion; an object at a blocks a/b', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  await putObject(`${location.prefix}exists.bin`, 'already here');
  const taken = await tusCreate(origin, TOKEN, {
    'Upload-Length': '10',
    'Upload-Metadata': tusMetadata({ filename: 'exists.bin' }),
  });
  assert.equal(taken.status, 409, taken.body.toString());

  // Another upload to the same name is refused while the first is unfinished.
  const { path } = await create(origin, 100, 'late.bin');
  const twice = await tusCreate(origin, TOKEN, {
    'Upload-Length': '10',
    'Upload-Metadata': tusMetadata({ filename: 'late.bin' }),
  });
  assert.equal(twice.status, 409, twice.body.toString());
  // An object that appears at the target before the last byte is never replaced.
  await putObject(`${location.prefix}late.bin`, 'someone else');
  const refused = await tusPatch(origin, TOKEN, path, 0, randomBytes(100));
  assert.equal(refused.status, 409, refused.body.toString());
  assert.equal((await object(`${location.prefix}late.bin`))?.toString(), 'someone else');
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`), []);

  await putObject(`${location.prefix}a`, 'a file');
  await putObject(`${location.prefix}dir/inside`, 'a folder');
  const store = new S3UploadStore(conn, location, storeOptions);
  assert.equal((await store.checkTarget(['a', 'b'])).kind, 'blocked');
  assert.equal((await store.checkTarget(['dir'])).kind, 'exists');
  assert.equal((await store.checkTarget(['dir', 'new'])).kind, 'free');
  const put = await fetch(`${origin}/a/b`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, ...V9, 'Upload-Complete': '?1' },
    body: 'x',
  });
  assert.equal(put.status, 409);
  assert.equal(await object(`${location.prefix}a/b`), undefined);
});

test('IETF draft: PUT /music/take1.wav with Upload-Complete: ?1 puts the object there; a plain PUT too', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const data = randomBytes(9 * MiB + 333);
  const put = await fetch(`${origin}/music/take1.wav`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, ...V9, 'Upload-Complete': '?1' },
    body: data,
  });
  assert.equal(put.status, 201, await put.text());
  assert.ok((await object(`${location.prefix}music/take1.wav`))?.equals(data));
  assert.deepEqual(await servedKeys(location), ['music/take1.wav']);
  assert.deepEqual(await multipartUploads(location.prefix), []);
  // A plain PUT (no draft fields) stores all or nothing through the same store.
  const plain = await fetch(`${origin}/notes/plain.txt`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: 'plain bytes',
  });
  assert.equal(plain.status, 201, await plain.text());
  assert.equal((await object(`${location.prefix}notes/plain.txt`))?.toString(), 'plain bytes');
  const again = await fetch(`${origin}/notes/plain.txt`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: 'other bytes',
  });
  assert.equal(again.status, 409, 'an existing object is never replaced');
  assert.deepEqual(await keysUnder(`${location.prefix}${S3_UPLOAD_PREFIX}u/`), []);
});

test('tus concatenation: a 9 MiB and a 100 KiB partial upload make the final object', async (t) => {
  const location = place();
  const origin = await serve(t, location);
  const a = randomBytes(9 * MiB + 1);
  const b = randomBytes(100 * 1024);
  const parts: string[] = [];
  for (const part of [a, b]) {
    const res = await tusCreate(origin, TOKEN, {
      'Upload-Concat': 'partial',
      'Upload-Length': String(part.length),
    });
    assert.equal(res.status, 201, res.body.toString());
    assert.equal((await tusPatch(origin, TOKEN, res.path as string, 0, part)).status, 204);
    parts.push(res.path as string);
  }
  assert.deepEqual(await servedKeys(location), []);
  const final = await tusCreate(origin, TOKEN, {
    'Upload-Concat': `final;${parts.join(' ')}`,
    'Upload-Metadata': tusMetadata({ filename: 'joined/ab.bin' }),
  });
  assert.equal(final.status, 201, final.body.toString());
  assert.ok((await object(`${location.prefix}joined/ab.bin`))?.equals(Buffer.concat([a, b])));
  assert.deepEqual(await servedKeys(location), ['joined/ab.bin']);
});

test('a store that does not answer: 502 with Retry-After, not 500', async (t) => {
  const location = place();
  const refused = await connectS3({
    env: ceph.env,
    endpoint: 'http://127.0.0.1:9',
    timeout: 2_000,
  });
  t.after(() => refused.client.destroy());
  const origin = await serve(t, location, {}, refused);
  const res = await tusCreate(origin, TOKEN, {
    'Upload-Length': '10',
    'Upload-Metadata': tusMetadata({ filename: 'x.bin' }),
  });
  assert.equal(res.status, 502, res.body.toString());
  assert.equal(res.headers['retry-after'], '5');
  assert.equal(res.headers['tus-resumable'], '1.0.0');
});
