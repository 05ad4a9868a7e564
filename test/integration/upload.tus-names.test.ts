/**
 * Issue 12: the tus `filename` rules (URL path rules: a bad one is 400 and nothing is written
 * anywhere; a dot-name only with --dotfiles; the store's and the endpoint's names reserved), one
 * unfinished upload per path, partial data never served or listed, and expiry with a short
 * --upload-expires.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { makeTree } from '../helpers/tree.js';
import {
  servedTree,
  serveUploads,
  tusCreate,
  tusMetadata,
  tusPatch,
  tusRequest,
  unfinishedIds,
} from '../helpers/tus.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'names-token-0b1c2d';

async function server(t: { after(fn: () => unknown): void }, extra: string[] = []) {
  const tree = await makeTree({ 'existing.txt': 'there', sub: { 'in.txt': 'inside' } });
  t.after(tree.cleanup);
  const url = await serveUploads(t, tree.dir, TOKEN, extra);
  return { url, dir: tree.dir };
}

function create(url: string, filename: string, length = 100) {
  return tusCreate(url, TOKEN, {
    'Upload-Length': String(length),
    'Upload-Metadata': tusMetadata({ filename }),
  });
}

const BAD_NAMES = [
  '../x',
  '../../etc/passwd',
  'sub/../../x',
  'a//b',
  '/abs.bin',
  'a/',
  'a/./b',
  'a\\b',
  '..\\x',
  'a\0b',
  '.hidden',
  'sub/.hidden/x',
  '.ranged-uploads/x',
  '.uploads/x',
  '',
];

for (const dotfiles of [false, true]) {
  const flags = dotfiles ? ['--dotfiles'] : [];
  test(`tus filename: bad names are 400 at creation and nothing is written (${dotfiles ? 'with' : 'without'} --dotfiles)`, async (t) => {
    const { url, dir } = await server(t, flags);
    const before = await servedTree(dir);
    for (const name of BAD_NAMES) {
      if (dotfiles && name.includes('.hidden')) continue;
      const res = await create(url, name);
      assert.equal(res.status, 400, `filename ${JSON.stringify(name)}: ${res.body}`);
      assert.equal(res.headers.location, undefined);
    }
    // No filename at all (and not a partial upload): 400 too.
    const none = await tusCreate(url, TOKEN, { 'Upload-Length': '5' });
    assert.equal(none.status, 400);
    assert.deepEqual(await servedTree(dir), before);
    assert.deepEqual(await unfinishedIds(dir), []);
  });
}

test('tus filename: .hidden/ok.txt is taken with --dotfiles (and served), refused without', async (t) => {
  const off = await server(t);
  assert.equal((await create(off.url, '.hidden/ok.txt')).status, 400);
  const { url, dir } = await server(t, ['--dotfiles']);
  const body = bytes(5000, 3);
  const res = await create(url, '.hidden/ok.txt', body.length);
  assert.equal(res.status, 201);
  assert.equal((await tusPatch(url, TOKEN, res.path as string, 0, body)).status, 204);
  assert.deepEqual(await readFile(join(dir, '.hidden', 'ok.txt')), body);
  const get = await fetch(`${url}/.hidden/ok.txt`);
  assert.equal(get.status, 200);
  assert.deepEqual(Buffer.from(await get.arrayBuffer()), body);
});

test('tus filename: an existing file, or a file on the way, is 409; two creations for one new path: the second 409 until the first is terminated', async (t) => {
  const { url, dir } = await server(t);
  assert.equal((await create(url, 'existing.txt')).status, 409);
  assert.equal((await create(url, 'sub/in.txt')).status, 409);
  assert.equal((await create(url, 'existing.txt/below.bin')).status, 409);
  assert.equal(await readFile(join(dir, 'existing.txt'), 'utf8'), 'there');

  const first = await create(url, 'new/one.bin', 1000);
  assert.equal(first.status, 201);
  assert.equal((await tusPatch(url, TOKEN, first.path as string, 0, bytes(300))).status, 204);
  const second = await create(url, 'new/one.bin', 1000);
  assert.equal(second.status, 409);
  assert.equal((await unfinishedIds(dir)).length, 1);
  assert.equal(
    (await tusRequest(url, 'DELETE', first.path as string, { token: TOKEN })).status,
    204,
  );
  const third = await create(url, 'new/one.bin', 1000);
  assert.equal(third.status, 201);
  const body = bytes(1000, 5);
  assert.equal((await tusPatch(url, TOKEN, third.path as string, 0, body)).status, 204);
  assert.deepEqual(await readFile(join(dir, 'new', 'one.bin')), body);
  // Once complete, the path is an existing file: 409 again.
  assert.equal((await create(url, 'new/one.bin', 1000)).status, 409);
});

for (const dotfiles of [false, true]) {
  test(`tus: partial data is never served or listed (${dotfiles ? 'with' : 'without'} --dotfiles)`, async (t) => {
    const { url, dir } = await server(t, dotfiles ? ['--dotfiles'] : []);
    const res = await create(url, 'sub/partial.bin', 10_000);
    assert.equal(res.status, 201);
    assert.equal((await tusPatch(url, TOKEN, res.path as string, 0, bytes(4000, 9))).status, 204);
    const [id] = await unfinishedIds(dir);
    assert.ok(id !== undefined);
    for (const folder of ['/', '/sub/']) {
      const html = await fetch(`${url}${folder}`);
      assert.equal(html.status, 200);
      const page = await html.text();
      const json = await fetch(`${url}${folder}`, { headers: { Accept: 'application/json' } });
      assert.equal(json.status, 200);
      assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
      const listing = await json.text();
      for (const text of [page, listing]) {
        assert.doesNotMatch(text, /partial\.bin|ranged-uploads/);
        assert.doesNotMatch(text, new RegExp(id));
      }
      // No entry links into the store or the tus endpoint (the page's upload control names the
      // endpoint, which is not an entry).
      assert.doesNotMatch(page, /<a class="link" href="[^"]*\.uploads/);
      assert.doesNotMatch(listing, /"\.uploads"/);
    }
    assert.equal((await fetch(`${url}/sub/partial.bin`)).status, 404);
    for (const path of [
      '/.ranged-uploads/',
      '/.ranged-uploads/u/',
      `/.ranged-uploads/u/${id}/data`,
      `/.ranged-uploads/u/${id}/info.json`,
      '/%2eranged-uploads/u/',
    ]) {
      const get = await fetch(`${url}${path}`);
      assert.equal(get.status, 404, path);
      assert.doesNotMatch(Buffer.from(await get.arrayBuffer()).toString('latin1'), /filename/);
    }
    // A PUT into the store is refused too, and writes nothing there.
    const put = await tusRequest(url, 'PUT', `/.ranged-uploads/u/${id}/data`, {
      token: TOKEN,
      body: bytes(10),
      headers: { 'Tus-Resumable': undefined },
    });
    assert.equal(put.status, 404);
    assert.deepEqual(
      await readFile(join(dir, '.ranged-uploads', 'u', id as string, 'data')),
      bytes(4000, 9),
    );
  });
}

test('tus expiry: with --upload-expires 2s an idle upload answers 404/410, its data goes, and its path is free', async (t) => {
  const { url, dir } = await server(t, ['--upload-expires', '2s']);
  const res = await create(url, 'exp/late.bin', 10_000);
  assert.equal(res.status, 201);
  const expires = Date.parse(res.headers['upload-expires'] ?? '');
  assert.ok(
    expires > Date.now() && expires <= Date.now() + 3_000,
    'Upload-Expires about 2 s ahead',
  );
  const path = res.path as string;
  assert.equal((await tusPatch(url, TOKEN, path, 0, bytes(5000))).status, 204);
  const [id] = await unfinishedIds(dir);
  const folder = join(dir, '.ranged-uploads', 'u', id as string);
  await access(folder);
  const gone = await waitFor(
    'HEAD of the expired upload to answer 404 or 410',
    async () => {
      const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
      return [404, 410].includes(head.status) && head;
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
  assert.equal(gone.headers['upload-offset'], undefined);
  await waitFor(
    'the expired upload folder to be removed',
    () =>
      access(folder).then(
        () => false,
        () => true,
      ),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  assert.deepEqual(await unfinishedIds(dir), []);
  const patch = await tusPatch(url, TOKEN, path, 5000, bytes(5000));
  assert.ok([404, 410].includes(patch.status), `PATCH after expiry: ${patch.status}`);
  await assert.rejects(access(join(dir, 'exp')), { code: 'ENOENT' });
  // The path is free again.
  const body = bytes(3000, 1);
  const again = await create(url, 'exp/late.bin', body.length);
  assert.equal(again.status, 201);
  assert.equal((await tusPatch(url, TOKEN, again.path as string, 0, body)).status, 204);
  assert.deepEqual(await readFile(join(dir, 'exp', 'late.bin')), body);
});
