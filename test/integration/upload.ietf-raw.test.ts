/**
 * Issue 12, the latest draft's exchanges as raw requests (interop version 9) with node:http, which
 * shows the 104 (Upload Resumption Supported) as an 'information' event: creation, append, offset
 * retrieval, a mismatching offset, completion, cancellation, OPTIONS, the token, a taken target
 * and the size limit.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { testCertificate } from '../helpers/tls.js';
import { makeTree } from '../helpers/tree.js';

const TOKEN = 'raw-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const V9 = { 'Upload-Draft-Interop-Version': '9' };
const PARTIAL = { 'Content-Type': 'application/partial-upload' };
const MAX = 4 * 1024 * 1024;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  interim: http.InformationEvent[];
}

/** One request on its own connection; resolves with the final response and any 1xx before it. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const interim: http.InformationEvent[] = [];
    const length = body === undefined ? {} : { 'Content-Length': String(body.length) };
    const req = http.request(url, { method, agent: false, headers: { ...headers, ...length } });
    req.on('information', (info) => interim.push(info));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          interim,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes that encode their offset (every 4-byte word holds its offset). */
function offsetBytes(size: number): Buffer {
  const buf = Buffer.alloc(Math.ceil(size / 4) * 4);
  for (let o = 0; o < buf.length; o += 4) buf.writeUInt32BE(o, o);
  return buf.subarray(0, size);
}

async function setup(
  t: { after(fn: () => unknown): void },
  files: Record<string, string> = {},
  extra: string[] = [],
) {
  const tree = await makeTree(files);
  t.after(tree.cleanup);
  const server = await startServeCli(tree.dir, [
    '--uploads',
    '--upload-token',
    TOKEN,
    '--max-upload-size',
    '4M',
    ...extra,
  ]);
  t.after(() => server.child.kill('SIGKILL'));
  return { dir: tree.dir, url: server.url.replace(/\/$/, '') };
}

async function absent(path: string, why: string): Promise<void> {
  await assert.rejects(stat(path), { code: 'ENOENT' }, why);
}

/** Unfinished uploads in the store (their folders). */
async function unfinished(dir: string): Promise<string[]> {
  return readdir(join(dir, '.ranged-uploads', 'u'));
}

/** A creation with `Upload-Complete: ?0` and `body`; returns the reply and the upload URL. */
async function create(url: string, path: string, body: Buffer, extra: Record<string, string> = {}) {
  const reply = await send(
    `${url}${path}`,
    'POST',
    { ...AUTH, ...V9, 'Upload-Complete': '?0', ...extra },
    body,
  );
  return { reply, upload: `${url}${reply.headers.location}` };
}

test('draft interop 9: 104 + 201 creation, append, HEAD, 409 on a wrong offset, the file only on completion', async (t) => {
  const { dir, url } = await setup(t);
  const data = offsetBytes(3 * 1024 * 1024 + 17);
  const parts = [
    data.subarray(0, 1_000_003),
    data.subarray(1_000_003, 2_500_000),
    data.subarray(2_500_000),
  ];
  const target = join(dir, 'music', 'take1.wav');

  const { reply: created, upload } = await create(url, '/music/take1.wav', parts[0] as Buffer);
  // Draft-12 §Upload Creation: the 104 carries Location and Upload-Limit, and the interop version.
  assert.equal(created.interim.length, 1);
  const info = created.interim[0] as http.InformationEvent;
  assert.equal(info.statusCode, 104);
  assert.equal(info.statusMessage, 'Upload Resumption Supported');
  assert.match(String(info.headers.location), /^\/\.uploads\/[A-Za-z0-9_-]{22}$/);
  assert.equal(info.headers['upload-draft-interop-version'], '9');
  assert.match(String(info.headers['upload-limit']), /max-size=4194304/);
  assert.equal(created.status, 201);
  assert.equal(created.headers.location, info.headers.location);
  assert.equal(created.headers['upload-complete'], '?0');
  assert.equal(created.headers['upload-offset'], String(parts[0]?.length));
  await absent(target, 'no file after the creation');

  const appended = await send(
    upload,
    'PATCH',
    {
      ...AUTH,
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?0',
      'Upload-Offset': String(parts[0]?.length),
    },
    parts[1],
  );
  assert.equal(appended.status, 204);
  assert.equal(appended.headers['upload-complete'], '?0');
  assert.equal(appended.headers['upload-offset'], '2500000');

  const head = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.equal(head.status, 204);
  assert.equal(head.headers['upload-offset'], '2500000');
  assert.equal(head.headers['upload-complete'], '?0');
  assert.equal(head.headers['cache-control'], 'no-store');
  assert.match(String(head.headers['upload-limit']), /max-age=\d+/);

  // Draft-12 §Upload Append: a mismatching offset is 409 with the correct offset and the problem.
  const wrong = await send(
    upload,
    'PATCH',
    {
      ...AUTH,
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?1',
      'Upload-Offset': '1000003',
    },
    parts[2],
  );
  assert.equal(wrong.status, 409);
  assert.equal(wrong.headers['upload-offset'], '2500000');
  assert.equal(wrong.headers['upload-complete'], '?0');
  assert.equal(wrong.headers['content-type'], 'application/problem+json');
  const problem = JSON.parse(wrong.body.toString()) as Record<string, unknown>;
  assert.equal(
    problem.type,
    'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
  );
  assert.equal(problem['expected-offset'], 2_500_000);
  assert.equal(problem['provided-offset'], 1_000_003);
  await absent(target, 'no file after a refused PATCH');
  const again = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.equal(again.headers['upload-offset'], '2500000', 'the refused PATCH stored nothing');

  const last = await send(
    upload,
    'PATCH',
    {
      ...AUTH,
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?1',
      'Upload-Offset': '2500000',
    },
    parts[2],
  );
  assert.equal(last.status, 201);
  assert.equal(last.headers['upload-complete'], '?1');
  assert.equal(last.headers['upload-offset'], String(data.length));
  assert.ok((await readFile(target)).equals(data), 'the completed file is byte-identical');
  assert.deepEqual(await unfinished(dir), []);

  // The upload resource still answers: complete, with its length.
  const done = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.equal(done.status, 204);
  assert.equal(done.headers['upload-complete'], '?1');
  assert.equal(done.headers['upload-length'], String(data.length));
  // A lost last response: the same empty completing append replays success, nothing changes.
  const replay = await send(
    upload,
    'PATCH',
    {
      ...AUTH,
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?1',
      'Upload-Offset': String(data.length),
    },
    Buffer.alloc(0),
  );
  assert.equal(replay.status, 200);
  assert.equal(replay.headers['upload-complete'], '?1');
  assert.ok((await readFile(target)).equals(data));
});

test('draft interop 9: DELETE of an unfinished upload frees its path; the taken path is 409 before', async (t) => {
  const { dir, url } = await setup(t);
  const target = join(dir, 'clip.bin');
  const { reply, upload } = await create(url, '/clip.bin', offsetBytes(1000));
  assert.equal(reply.status, 201);

  // Another unfinished upload targets the path: 409, no 104, nothing stored.
  const second = await create(url, '/clip.bin', offsetBytes(10));
  assert.equal(second.reply.status, 409);
  assert.equal(second.reply.interim.length, 0);
  assert.equal((await unfinished(dir)).length, 1);

  const deleted = await send(upload, 'DELETE', { ...AUTH, ...V9 });
  assert.equal(deleted.status, 204);
  const head = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.ok(head.status === 404 || head.status === 410, `HEAD after DELETE: ${head.status}`);
  await absent(target, 'a cancelled upload leaves no file');
  assert.deepEqual(await unfinished(dir), [], 'its partial data is gone');

  // The path is free again: a new upload completes there in one request.
  const data = offsetBytes(5000);
  const fresh = await send(
    `${url}/clip.bin`,
    'PUT',
    { ...AUTH, ...V9, 'Upload-Complete': '?1' },
    data,
  );
  assert.equal(fresh.status, 201);
  assert.equal(fresh.headers['upload-complete'], '?1');
  assert.equal(fresh.interim[0]?.statusCode, 104);
  assert.ok((await readFile(target)).equals(data));
});

test('draft OPTIONS needs no token and gives Upload-Limit', async (t) => {
  const { url } = await setup(t);
  const reply = await send(`${url}/music/new.wav`, 'OPTIONS', {});
  assert.equal(reply.status, 204);
  const limit = String(reply.headers['upload-limit']);
  assert.match(limit, /max-size=4194304/);
  assert.match(limit, /max-age=86400/);
  assert.equal(reply.headers['accept-patch'], 'application/partial-upload');
  assert.match(String(reply.headers.allow), /POST/);
});

test('with --cors, a CORS preflight is answered by CORS, not by the draft', async (t) => {
  const { url } = await setup(t, {}, ['--cors']);
  const reply = await send(`${url}/music/new.wav`, 'OPTIONS', {
    Origin: 'http://example.test',
    'Access-Control-Request-Method': 'PUT',
  });
  assert.equal(reply.status, 204);
  assert.ok(reply.headers['access-control-allow-origin'] !== undefined);
  assert.equal(reply.headers['upload-limit'], undefined);
});

test('draft requests without the token are 401 with WWW-Authenticate: Bearer and store nothing', async (t) => {
  const { dir, url } = await setup(t);
  const body = offsetBytes(2000);
  for (const headers of [{}, { Authorization: 'Bearer not-the-token-at-all' }]) {
    const reply = await send(
      `${url}/a.bin`,
      'POST',
      { ...headers, ...V9, 'Upload-Complete': '?1' },
      body,
    );
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['www-authenticate'], 'Bearer');
    assert.equal(reply.interim.length, 0, 'no 104 without the token');
  }
  await absent(join(dir, 'a.bin'), 'no file without the token');
  assert.deepEqual(await unfinished(dir), [], 'nothing stored without the token');

  // An upload made with the token takes no PATCH and no DELETE without it.
  const { upload } = await create(url, '/b.bin', body);
  const patch = await send(
    upload,
    'PATCH',
    {
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?1',
      'Upload-Offset': '2000',
    },
    body,
  );
  assert.equal(patch.status, 401);
  const del = await send(upload, 'DELETE', { ...V9 });
  assert.equal(del.status, 401);
  const head = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.equal(head.headers['upload-offset'], '2000');
  assert.equal(head.headers['upload-complete'], '?0');
  await absent(join(dir, 'b.bin'), 'the unauthorised PATCH completed nothing');
});

test('draft creation for an existing file is 409 and changes nothing', async (t) => {
  const { dir, url } = await setup(t, { 'song.wav': 'the original' });
  const reply = await send(
    `${url}/song.wav`,
    'POST',
    { ...AUTH, ...V9, 'Upload-Complete': '?1' },
    offsetBytes(300),
  );
  assert.equal(reply.status, 409);
  assert.equal(reply.interim.length, 0);
  assert.equal(await readFile(join(dir, 'song.wav'), 'utf8'), 'the original');
  assert.deepEqual(await unfinished(dir), []);
});

test('draft uploads above --max-upload-size are 413 with Upload-Limit', async (t) => {
  const { dir, url } = await setup(t);
  // Declared too large: refused before any byte is read.
  const declared = await send(`${url}/big.bin`, 'POST', {
    ...AUTH,
    ...V9,
    'Upload-Complete': '?0',
    'Upload-Length': String(MAX + 1),
  });
  assert.equal(declared.status, 413);
  assert.match(String(declared.headers['upload-limit']), /max-size=4194304/);
  // A body that grows past the limit over appends: the append that crosses it is 413.
  const { upload } = await create(url, '/grow.bin', offsetBytes(MAX - 10));
  const over = await send(
    upload,
    'PATCH',
    {
      ...AUTH,
      ...V9,
      ...PARTIAL,
      'Upload-Complete': '?1',
      'Upload-Offset': String(MAX - 10),
    },
    offsetBytes(11),
  );
  assert.equal(over.status, 413);
  const head = await send(upload, 'HEAD', { ...AUTH, ...V9 });
  assert.equal(
    head.headers['upload-offset'],
    String(MAX - 10),
    'the refused append stored nothing',
  );
  await absent(join(dir, 'big.bin'), 'no file for a refused creation');
  await absent(join(dir, 'grow.bin'), 'no file for an upload past the limit');
});

test('over HTTP/2 the 104 is an informational HEADERS frame with the Location', async (t) => {
  const cert = testCertificate();
  if (cert === undefined) return t.skip('openssl is not installed');
  const tree = await makeTree();
  t.after(tree.cleanup);
  const server = await listen(t, {
    root: tree.dir,
    tls: { key: cert.key, cert: cert.cert },
    uploads: { token: TOKEN },
  });
  const client = http2.connect(server.url, { ca: cert.cert });
  t.after(() => client.close());
  const data = offsetBytes(3000);
  const req = client.request({
    ':method': 'POST',
    ':path': '/h2.bin',
    ...{ authorization: AUTH.Authorization, 'upload-draft-interop-version': '9' },
    ...{ 'upload-complete': '?1', 'content-length': String(data.length) },
  });
  const interim: http2.IncomingHttpHeaders[] = [];
  req.on('headers', (h) => interim.push(h));
  req.end(data);
  const [final] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  req.resume();
  await once(req, 'end');
  assert.equal(interim[0]?.[':status'], 104);
  assert.match(String(interim[0]?.location), /^\/\.uploads\/[A-Za-z0-9_-]{22}$/);
  assert.equal(final[':status'], 201);
  assert.equal(final.location, interim[0]?.location);
  assert.ok((await readFile(join(tree.dir, 'h2.bin'))).equals(data));
});
