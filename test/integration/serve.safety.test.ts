import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHandler } from '../../src/server/handler.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';

const SECRET = 'TOP-SECRET-CONTENT';

/** outer/ holds secret.txt and a sibling folder public-x; public/ is served. */
async function setup(t: { after(fn: () => unknown): void }, options = {}) {
  const tree = await makeTree({
    'secret.txt': SECRET,
    'public-x': { 'sibling.txt': SECRET },
    public: {
      'ok.txt': 'ok',
      '.env': SECRET,
      sub: { 'in.txt': 'inside' },
      '.git': { config: SECRET },
    },
  });
  t.after(tree.cleanup);
  const pub = join(tree.dir, 'public');
  await symlink(join(tree.dir, 'secret.txt'), join(pub, 'escape.txt'));
  await symlink(tree.dir, join(pub, 'escape-dir'));
  await symlink(join(pub, 'sub', 'in.txt'), join(pub, 'inside-link.txt'));
  await symlink(join(pub, '.env'), join(pub, 'to-dotfile.txt'));
  const server = await listen(t, { root: pub, ...options });
  return server.url;
}

const attacks = [
  '/../secret.txt',
  '/sub/../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/.%2e/secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/..%2fsecret.txt',
  '/..%5csecret.txt',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/..\\secret.txt',
  '//../secret.txt',
  '/../public-x/sibling.txt',
  '/escape.txt',
  '/escape-dir/secret.txt',
  '/escape-dir/',
  '/.env',
  '/.git/config',
  '/to-dotfile.txt',
  '/ok.txt%00.png',
  '/ok.txt%00',
  '/%',
  '/%zz',
  '/%c0%ae%c0%ae/secret.txt',
  '/%u002e%u002e/secret.txt',
];
for (const path of attacks) {
  test(`serve refuses ${path} and leaks nothing`, async (t) => {
    const url = await setup(t);
    const res = await rawGet(url, path);
    assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
    assert.ok(!res.body.toString().includes(SECRET), path);
  });
}

test('serve answers malformed percent-encoding and NUL with 400', async (t) => {
  const url = await setup(t);
  for (const path of ['/%', '/%zz', '/a%00b', '/%c'])
    assert.equal((await rawGet(url, path)).status, 400, path);
  // Well-formed bytes that are not UTF-8 name a file like any other: here, none.
  assert.equal((await rawGet(url, '/%c3')).status, 404);
});

test('serve follows a symlink that stays inside the root', async (t) => {
  const url = await setup(t);
  const res = await rawGet(url, '/inside-link.txt');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'inside');
});

test('serve follows a symlinked folder that stays inside the root', async (t) => {
  const tree = await makeTree({ pub: { real: { 'in.txt': 'inside' } } });
  t.after(tree.cleanup);
  await symlink(join(tree.dir, 'pub', 'real'), join(tree.dir, 'pub', 'alias'));
  const server = await listen(t, { root: join(tree.dir, 'pub') });
  const res = await rawGet(server.url, '/alias/in.txt', { Range: 'bytes=0-1' });
  assert.equal(res.status, 206);
  assert.equal(res.body.toString(), 'in');
});

test('serve shows dotfiles only with dotfiles: true', async (t) => {
  const url = await setup(t, { dotfiles: true });
  const res = await rawGet(url, '/.env');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), SECRET);
});

test('serve redirects a folder without a trailing slash, keeping the query', async (t) => {
  const url = await setup(t);
  const res = await rawGet(url, '/sub?x=1');
  assert.equal(res.status, 301);
  assert.equal(res.headers.location, 'sub/?x=1');
  assert.equal(new URL(res.headers.location ?? '', `${url}/sub?x=1`).pathname, '/sub/');
});

test('serve never redirects a folder to another host', async (t) => {
  const tree = await makeTree({ 'evil.example': { 'a.txt': 'a' } });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const res = await rawGet(server.url, '//evil.example');
  assert.equal(res.status, 301);
  const target = new URL(res.headers.location ?? '', `${server.url}//evil.example`);
  assert.equal(target.host, new URL(server.url).host);
});

test('createHandler() works as middleware: a miss calls next(), a hit is served', async (t) => {
  const tree = await makeTree({ 'a.txt': 'AAA' });
  t.after(tree.cleanup);
  const handler = createHandler(tree.dir);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    handler(req, res, () => {
      res.writeHead(418, { 'Content-Length': '4' });
      res.end('next');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.equal((await rawGet(url, '/a.txt')).body.toString(), 'AAA');
  const miss = await rawGet(url, '/missing.txt');
  assert.equal(miss.status, 418);
  assert.equal(miss.body.toString(), 'next');
});

test('createHandler() serves an index.html for a folder and 404s a missing file', async (t) => {
  const tree = await makeTree({ site: { 'index.html': '<h1>hi</h1>' } });
  t.after(tree.cleanup);
  await mkdir(join(tree.dir, 'site', 'empty'));
  await writeFile(join(tree.dir, 'site', 'home.htm'), 'home');
  const server = await listen(t, { root: join(tree.dir, 'site') });
  const res = await rawGet(server.url, '/');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), '<h1>hi</h1>');
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal((await rawGet(server.url, '/nope.txt')).status, 404);
  const custom = await listen(t, {
    root: join(tree.dir, 'site'),
    index: 'home.htm',
    listing: false,
  });
  assert.equal((await rawGet(custom.url, '/')).body.toString(), 'home');
  assert.equal((await rawGet(custom.url, '/empty/')).status, 404);
});

test('serve refuses an index.html that is a symlink out of the root', async (t) => {
  const tree = await makeTree({ 'secret.txt': SECRET, site: { sub: {} } });
  t.after(tree.cleanup);
  await symlink(join(tree.dir, 'secret.txt'), join(tree.dir, 'site', 'sub', 'index.html'));
  const server = await listen(t, { root: join(tree.dir, 'site') });
  const res = await rawGet(server.url, '/sub/');
  assert.ok(!res.body.toString().includes(SECRET));
});

test('serve answers 404 for a FIFO instead of blocking on it', async (t) => {
  const tree = await makeTree({ 'a.txt': 'a' });
  t.after(tree.cleanup);
  execFileSync('mkfifo', [join(tree.dir, 'pipe')]);
  const server = await listen(t, { root: tree.dir });
  assert.equal((await rawGet(server.url, '/pipe')).status, 404);
  assert.equal((await rawGet(server.url, '/a.txt')).status, 200);
});

test('a folder listing shows no symlink that leads out of the root, nor its size', async (t) => {
  const url = await setup(t);
  const res = await rawGet(url, '/', { Accept: 'application/json' });
  assert.equal(res.status, 200);
  const names = (JSON.parse(res.body.toString()) as { entries: { name: string }[] }).entries.map(
    (e) => e.name,
  );
  assert.ok(names.includes('inside-link.txt'), names.join(','));
  assert.ok(names.includes('ok.txt'));
  for (const hidden of ['escape.txt', 'escape-dir', 'to-dotfile.txt', '.env', '.git']) {
    assert.ok(!names.includes(hidden), `${hidden} is listed`);
  }
  const html = await rawGet(url, '/');
  assert.ok(!html.body.toString().includes('escape'));
});

test('serve follows a symlink that is a later one of two equal names', async (t) => {
  const tree = await makeTree({ pub: { a: { real: { 'in.txt': 'deep' } } } });
  t.after(tree.cleanup);
  await symlink(join(tree.dir, 'pub', 'a', 'real'), join(tree.dir, 'pub', 'a', 'a'));
  const server = await listen(t, { root: join(tree.dir, 'pub') });
  const res = await rawGet(server.url, '/a/a/in.txt');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'deep');
});
