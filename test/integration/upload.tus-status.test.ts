/**
 * Issue 12: every tus 1.0.0 status the issue names, with raw requests to `ranged serve --uploads`:
 * OPTIONS, 412, 401, 415, 409, 413, 460, 404/410, Cache-Control and Upload-Expires, and the
 * extensions creation-with-upload, creation-defer-length, termination and concatenation.
 */
import assert from 'node:assert/strict';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { makeTree } from '../helpers/tree.js';
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

const TOKEN = 'status-token-5e6f7a';
const EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'checksum',
  'expiration',
  'concatenation',
];

async function server(t: { after(fn: () => unknown): void }, extra: string[] = []) {
  const tree = await makeTree({ 'existing.txt': 'there' });
  t.after(tree.cleanup);
  const url = await serveUploads(t, tree.dir, TOKEN, extra);
  return { url, dir: tree.dir };
}

/** Creates an upload of `length` bytes for `filename`; returns its path. */
async function created(url: string, length: number, filename: string): Promise<string> {
  const res = await tusCreate(url, TOKEN, {
    'Upload-Length': String(length),
    'Upload-Metadata': tusMetadata({ filename }),
  });
  assert.equal(res.status, 201, res.body.toString());
  return res.path as string;
}

async function offsetOf(url: string, path: string): Promise<number> {
  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 200);
  return Number(head.headers['upload-offset']);
}

function assertFutureDate(value: string | undefined) {
  assert.ok(value !== undefined, 'Upload-Expires is there');
  assert.match(value, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.ok(Date.parse(value) > Date.now(), `${value} is in the future`);
}

test('tus OPTIONS: 204 without a token, Tus-Version, all 7 extensions, checksum algorithms, Tus-Max-Size', async (t) => {
  const { url } = await server(t, ['--max-upload-size', '5M']);
  const res = await tusRequest(url, 'OPTIONS', '/.uploads/', {
    token: null,
    headers: { 'Tus-Resumable': undefined },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers['tus-resumable'], '1.0.0');
  assert.deepEqual(res.headers['tus-version']?.split(','), ['1.0.0']);
  assert.deepEqual(res.headers['tus-extension']?.split(',').sort(), [...EXTENSIONS].sort());
  const algorithms = res.headers['tus-checksum-algorithm']?.split(',') ?? [];
  for (const a of ['sha1', 'sha256', 'md5']) assert.ok(algorithms.includes(a), a);
  assert.equal(res.headers['tus-max-size'], String(5 * 1024 * 1024));
  assert.equal(res.body.length, 0);
});

test('tus 412 + Tus-Version for Tus-Resumable: 0.2.2 (and none), nothing created', async (t) => {
  const { url, dir } = await server(t);
  const path = await created(url, 10, 'v.bin');
  const before = await unfinishedIds(dir);
  for (const version of ['0.2.2', undefined]) {
    const headers = { 'Tus-Resumable': version };
    const post = await tusCreate(url, TOKEN, {
      ...headers,
      'Upload-Length': '10',
      'Upload-Metadata': tusMetadata({ filename: 'w.bin' }),
    });
    const head = await tusRequest(url, 'HEAD', path, { token: TOKEN, headers });
    const patch = await tusPatch(url, TOKEN, path, 0, bytes(10), headers);
    for (const res of [post, head, patch]) {
      assert.equal(res.status, 412);
      assert.equal(res.headers['tus-version'], '1.0.0');
    }
  }
  assert.deepEqual(await unfinishedIds(dir), before);
  assert.equal(await offsetOf(url, path), 0);
});

test('tus 401 + WWW-Authenticate without or with a wrong token on POST, HEAD, PATCH, DELETE; nothing stored', async (t) => {
  const { url, dir } = await server(t);
  const path = await created(url, 100, 'auth.bin');
  const before = await unfinishedIds(dir);
  const tree = await servedTree(dir);
  for (const token of [null, 'wrong-token-123']) {
    const post = await tusRequest(url, 'POST', '/.uploads/', {
      token,
      headers: { 'Upload-Length': '5', 'Upload-Metadata': tusMetadata({ filename: 'x.bin' }) },
    });
    const head = await tusRequest(url, 'HEAD', path, { token });
    const patch = await tusPatch(url, token, path, 0, bytes(100));
    const del = await tusRequest(url, 'DELETE', path, { token });
    for (const res of [post, head, patch, del]) {
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.equal(res.headers['upload-offset'], undefined);
    }
  }
  assert.deepEqual(await unfinishedIds(dir), before);
  assert.deepEqual(await servedTree(dir), tree);
  assert.equal(await offsetOf(url, path), 0);
  const data = join(dir, '.ranged-uploads', 'u', before[0] as string, 'data');
  assert.equal((await stat(data)).size, 0);
});

test('tus core: 201 + Location + Upload-Expires, PATCH 204 + Upload-Offset + Upload-Expires, HEAD no-store, 415, 409 with the offset', async (t) => {
  const { url, dir } = await server(t);
  const body = bytes(300_000, 3);
  const res = await tusCreate(url, TOKEN, {
    'Upload-Length': String(body.length),
    'Upload-Metadata': tusMetadata({ filename: 'core/c.bin', type: 'application/x-test' }),
  });
  assert.equal(res.status, 201);
  assert.match(res.path ?? '', /^\/\.uploads\/[^/]+$/);
  assertFutureDate(res.headers['upload-expires']);
  const path = res.path as string;

  const first = await tusPatch(url, TOKEN, path, 0, body.subarray(0, 100_000));
  assert.equal(first.status, 204);
  assert.equal(first.headers['upload-offset'], '100000');
  assertFutureDate(first.headers['upload-expires']);

  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(head.status, 200);
  assert.equal(head.headers['cache-control'], 'no-store');
  assert.equal(head.headers['upload-offset'], '100000');
  assert.equal(head.headers['upload-length'], String(body.length));
  assert.equal(
    head.headers['upload-metadata'],
    tusMetadata({ filename: 'core/c.bin', type: 'application/x-test' }),
  );

  // 415: another Content-Type; the offset does not move.
  const wrongType = await tusPatch(url, TOKEN, path, 100_000, body.subarray(100_000, 200_000), {
    'Content-Type': 'application/octet-stream',
  });
  assert.equal(wrongType.status, 415);
  assert.equal(await offsetOf(url, path), 100_000);

  // 409 with the current offset, behind and ahead.
  for (const stale of [0, 50_000, 200_000]) {
    const conflict = await tusPatch(url, TOKEN, path, stale, body.subarray(stale, stale + 10));
    assert.equal(conflict.status, 409);
    assert.equal(conflict.headers['upload-offset'], '100000');
  }
  assert.equal(await offsetOf(url, path), 100_000);
  await assert.rejects(access(join(dir, 'core', 'c.bin')), { code: 'ENOENT' });

  const last = await tusPatch(url, TOKEN, path, 100_000, body.subarray(100_000));
  assert.equal(last.status, 204);
  assert.equal(last.headers['upload-offset'], String(body.length));
  assert.deepEqual(await readFile(join(dir, 'core', 'c.bin')), body);
  // A client whose last response was lost: HEAD says offset = length.
  const done = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(done.status, 200);
  assert.equal(done.headers['upload-offset'], String(body.length));
  assert.equal(done.headers['upload-length'], String(body.length));
  assert.equal(done.headers['cache-control'], 'no-store');
  assert.deepEqual(await unfinishedIds(dir), []);
});

test('tus 413 above --max-upload-size: Upload-Length at creation, a deferred length, a body past the length', async (t) => {
  const { url, dir } = await server(t, ['--max-upload-size', '1M']);
  const max = 1024 * 1024;
  const big = await tusCreate(url, TOKEN, {
    'Upload-Length': String(max + 1),
    'Upload-Metadata': tusMetadata({ filename: 'big.bin' }),
  });
  assert.equal(big.status, 413);
  assert.deepEqual(await unfinishedIds(dir), []);

  const deferred = await tusCreate(url, TOKEN, {
    'Upload-Defer-Length': '1',
    'Upload-Metadata': tusMetadata({ filename: 'deferred.bin' }),
  });
  assert.equal(deferred.status, 201);
  const tooLong = await tusPatch(url, TOKEN, deferred.path as string, 0, bytes(10), {
    'Upload-Length': String(max + 1),
  });
  assert.equal(tooLong.status, 413);
  assert.equal(await offsetOf(url, deferred.path as string), 0);

  const path = await created(url, 1000, 'small.bin');
  const past = await tusPatch(url, TOKEN, path, 0, bytes(1001));
  assert.equal(past.status, 413);
  assert.equal(await offsetOf(url, path), 0);
  // At the limit exactly, it is taken.
  const exact = bytes(max, 6);
  const whole = await created(url, max, 'exact.bin');
  assert.equal((await tusPatch(url, TOKEN, whole, 0, exact)).status, 204);
  assert.deepEqual(await readFile(join(dir, 'exact.bin')), exact);
});

for (const algorithm of ['sha1', 'sha256', 'md5'] as const) {
  test(`tus 460 for a wrong ${algorithm} Upload-Checksum: offset unchanged, bytes discarded; the right one is taken`, async (t) => {
    const { url, dir } = await server(t);
    const body = bytes(200_000, 7);
    const path = await created(url, body.length, `sum-${algorithm}.bin`);
    const head = body.subarray(0, 50_000);
    assert.equal(
      (
        await tusPatch(url, TOKEN, path, 0, head, {
          'Upload-Checksum': tusChecksum(algorithm, head),
        })
      ).status,
      204,
    );
    const chunk = body.subarray(50_000, 150_000);
    const wrong = tusChecksum(algorithm, Buffer.concat([chunk, Buffer.from([0])]));
    const mismatch = await tusPatch(url, TOKEN, path, 50_000, chunk, { 'Upload-Checksum': wrong });
    assert.equal(mismatch.status, 460);
    assert.equal(await offsetOf(url, path), 50_000);
    const [id] = await unfinishedIds(dir);
    const data = join(dir, '.ranged-uploads', 'u', id as string, 'data');
    assert.equal((await stat(data)).size, 50_000);
    assert.deepEqual(await readFile(data), head);

    const right = await tusPatch(url, TOKEN, path, 50_000, chunk, {
      'Upload-Checksum': tusChecksum(algorithm, chunk),
    });
    assert.equal(right.status, 204);
    assert.equal(right.headers['upload-offset'], '150000');
    const rest = body.subarray(150_000);
    const end = await tusPatch(url, TOKEN, path, 150_000, rest, {
      'Upload-Checksum': tusChecksum(algorithm, rest),
    });
    assert.equal(end.status, 204);
    assert.deepEqual(await readFile(join(dir, `sum-${algorithm}.bin`)), body);
  });
}

test('tus 404 for an unknown upload; DELETE 204, then 404/410, data gone and the target path free', async (t) => {
  const { url, dir } = await server(t);
  for (const path of ['/.uploads/0123456789abcdef0123456789abcdef', '/.uploads/nope']) {
    assert.equal((await tusRequest(url, 'HEAD', path, { token: TOKEN })).status, 404);
    assert.equal((await tusPatch(url, TOKEN, path, 0, bytes(5))).status, 404);
    assert.equal((await tusRequest(url, 'DELETE', path, { token: TOKEN })).status, 404);
  }
  const path = await created(url, 1000, 'term/t.bin');
  assert.equal((await tusPatch(url, TOKEN, path, 0, bytes(400))).status, 204);
  const [id] = await unfinishedIds(dir);
  const del = await tusRequest(url, 'DELETE', path, { token: TOKEN });
  assert.equal(del.status, 204);
  assert.equal(del.headers['tus-resumable'], '1.0.0');
  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.ok([404, 410].includes(head.status), `HEAD after DELETE: ${head.status}`);
  assert.equal(head.headers['upload-offset'], undefined);
  const patch = await tusPatch(url, TOKEN, path, 400, bytes(600));
  assert.ok([404, 410].includes(patch.status), `PATCH after DELETE: ${patch.status}`);
  assert.ok([404, 410].includes((await tusRequest(url, 'DELETE', path, { token: TOKEN })).status));
  await assert.rejects(access(join(dir, '.ranged-uploads', 'u', id as string)), {
    code: 'ENOENT',
  });
  await assert.rejects(access(join(dir, 'term')), { code: 'ENOENT' });
  // The path is free again.
  const body = bytes(1000, 2);
  const again = await created(url, 1000, 'term/t.bin');
  assert.equal((await tusPatch(url, TOKEN, again, 0, body)).status, 204);
  assert.deepEqual(await readFile(join(dir, 'term', 't.bin')), body);
});

test('tus creation-with-upload: POST with a body answers 201 + Upload-Offset, and a whole body completes', async (t) => {
  const { url, dir } = await server(t);
  const body = bytes(500_000, 4);
  const ct = { 'Content-Type': 'application/offset+octet-stream' };
  const part = await tusCreate(
    url,
    TOKEN,
    {
      ...ct,
      'Upload-Length': String(body.length),
      'Upload-Metadata': tusMetadata({ filename: 'cwu.bin' }),
    },
    { body: body.subarray(0, 123_456) },
  );
  assert.equal(part.status, 201);
  assert.equal(part.headers['upload-offset'], '123456');
  assertFutureDate(part.headers['upload-expires']);
  await assert.rejects(access(join(dir, 'cwu.bin')), { code: 'ENOENT' });
  const rest = await tusPatch(url, TOKEN, part.path as string, 123_456, body.subarray(123_456));
  assert.equal(rest.status, 204);
  assert.deepEqual(await readFile(join(dir, 'cwu.bin')), body);

  const whole = bytes(70_000, 5);
  const all = await tusCreate(
    url,
    TOKEN,
    {
      ...ct,
      'Upload-Length': String(whole.length),
      'Upload-Metadata': tusMetadata({ filename: 'all.bin' }),
    },
    { body: whole },
  );
  assert.equal(all.status, 201);
  assert.equal(all.headers['upload-offset'], String(whole.length));
  assert.deepEqual(await readFile(join(dir, 'all.bin')), whole);
});

test('tus creation-defer-length: Upload-Defer-Length: 1, then Upload-Length on a later PATCH', async (t) => {
  const { url, dir } = await server(t);
  const body = bytes(250_000, 8);
  const res = await tusCreate(url, TOKEN, {
    'Upload-Defer-Length': '1',
    'Upload-Metadata': tusMetadata({ filename: 'defer.bin' }),
  });
  assert.equal(res.status, 201);
  const path = res.path as string;
  assert.equal((await tusPatch(url, TOKEN, path, 0, body.subarray(0, 100_000))).status, 204);
  const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
  assert.equal(head.headers['upload-defer-length'], '1');
  assert.equal(head.headers['upload-length'], undefined);
  assert.equal(head.headers['upload-offset'], '100000');
  const last = await tusPatch(url, TOKEN, path, 100_000, body.subarray(100_000), {
    'Upload-Length': String(body.length),
  });
  assert.equal(last.status, 204);
  assert.equal(last.headers['upload-offset'], String(body.length));
  assert.deepEqual(await readFile(join(dir, 'defer.bin')), body);
});

test('tus concatenation: two partial uploads without a filename, then final;A B with one, is A+B', async (t) => {
  const { url, dir } = await server(t);
  const a = bytes(180_000, 1);
  const b = bytes(77_777, 2);
  const parts: string[] = [];
  for (const part of [a, b]) {
    const res = await tusCreate(url, TOKEN, {
      'Upload-Concat': 'partial',
      'Upload-Length': String(part.length),
    });
    assert.equal(res.status, 201, res.body.toString());
    assert.equal((await tusPatch(url, TOKEN, res.path as string, 0, part)).status, 204);
    const head = await tusRequest(url, 'HEAD', res.path as string, { token: TOKEN });
    assert.equal(head.headers['upload-concat'], 'partial');
    parts.push(res.path as string);
  }
  // Partial uploads are never served: nothing new in DIR.
  assert.deepEqual(await servedTree(dir), ['existing.txt']);
  const final = await tusCreate(url, TOKEN, {
    'Upload-Concat': `final;${parts.join(' ')}`,
    'Upload-Metadata': tusMetadata({ filename: 'joined/ab.bin' }),
  });
  assert.equal(final.status, 201, final.body.toString());
  const joined = Buffer.concat([a, b]);
  assert.deepEqual(await readFile(join(dir, 'joined', 'ab.bin')), joined);
  const head = await tusRequest(url, 'HEAD', final.path as string, { token: TOKEN });
  assert.equal(head.status, 200);
  assert.equal(head.headers['upload-offset'], String(joined.length));
  assert.equal(head.headers['upload-length'], String(joined.length));
  assert.equal(head.headers['upload-concat'], `final;${parts.join(' ')}`);
  const range = await fetch(`${url}/joined/ab.bin`, { headers: { Range: 'bytes=179990-180009' } });
  assert.equal(range.status, 206);
  assert.deepEqual(Buffer.from(await range.arrayBuffer()), joined.subarray(179_990, 180_010));
  // PATCH of a final upload: 403 (tus 1.0.0 §Concatenation).
  const patch = await tusPatch(url, TOKEN, final.path as string, joined.length, bytes(1));
  assert.equal(patch.status, 403);
});
