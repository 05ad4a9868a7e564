import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';

const HOSTILE = '<img src=x onerror=alert(1)>.txt';
const TRICKY = ['a b.txt', 'a#b?c%d.txt', 'café ünï 日本.txt', "it's (1).txt", HOSTILE, '100%.txt'];

function files(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  TRICKY.forEach((name, i) => {
    out[name] = bytes(1000 + i * 37, i);
  });
  return out;
}

const JSON_ACCEPT = { Accept: 'application/json' };

test('listing: Accept: application/json gives name, size, mtime, type, etag and href for each entry, with Vary: Accept', async (t) => {
  const tree = await makeTree({ ...files(), sub: { 'x.bin': bytes(10) }, '.hidden': 'no' });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });

  const res = await rawGet(server.url, '/', JSON_ACCEPT);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(res.headers.vary, 'Accept');
  assert.equal(Number(res.headers['content-length']), res.body.length);
  const doc = JSON.parse(res.body.toString('utf8')) as {
    path: string;
    entries: {
      name: string;
      kind: string;
      size: number | null;
      mtime: string;
      type: string;
      etag: string | null;
      href: string;
    }[];
  };
  assert.equal(doc.path, '/');
  assert.deepEqual(
    doc.entries.map((e) => e.name),
    // Folders first; then names as people sort them: punctuation, digits, letters, any case.
    ['sub', HOSTILE, '100%.txt', 'a b.txt', 'a#b?c%d.txt', 'café ünï 日本.txt', "it's (1).txt"],
  );
  const sub = doc.entries[0];
  assert.deepEqual(sub && { ...sub, mtime: '' }, {
    name: 'sub',
    kind: 'directory',
    size: null,
    mtime: '',
    type: 'inode/directory',
    etag: null,
    href: 'sub/',
  });
  // Each file entry describes the file as the server serves it: same bytes, type and ETag.
  for (const entry of doc.entries.slice(1)) {
    const file = await fetch(new URL(entry.href, `${server.url}/`));
    assert.equal(file.status, 200, entry.name);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), files()[entry.name], entry.name);
    assert.equal(entry.size, files()[entry.name]?.length);
    assert.equal(entry.etag, file.headers.get('etag'));
    assert.equal(entry.type, file.headers.get('content-type'));
    // Last-Modified has whole seconds; the listing keeps milliseconds.
    assert.equal(
      Math.floor(Date.parse(entry.mtime) / 1000) * 1000,
      Date.parse(file.headers.get('last-modified') ?? ''),
    );
    assert.equal(entry.kind, 'file');
  }
});

test('listing: a browser Accept header gets HTML with a strict CSP, and HEAD gets the same headers', async (t) => {
  const tree = await makeTree(files());
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  const res = await rawGet(server.url, '/', { Accept: accept });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers.vary, 'Accept');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  const csp = res.headers['content-security-policy'] ?? '';
  assert.match(
    csp,
    /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; script-src 'sha256-[A-Za-z0-9+/]+=*';/,
  );
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  const html = res.body.toString('utf8');
  assert.doesNotMatch(html, /<img src=x/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external asset');

  const head = await rawGet(server.url, '/', { Accept: accept }, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers['content-length'], res.headers['content-length']);
  assert.equal(head.headers['content-security-policy'], csp);
});

test('listing: every link on the page fetches the bytes of the file it names', async (t) => {
  const tree = await makeTree({ dir: files() });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const base = `${server.url}/dir/`;
  const html = await (await fetch(base)).text();
  const hrefs = [...html.matchAll(/<a class="link" href="([^"]*)">([^<]*)<\/a>/g)];
  const unentity = (s: string) =>
    s.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  assert.equal(hrefs.length, TRICKY.length);
  for (const [, href = '', text = ''] of hrefs) {
    const name = unentity(text);
    assert.ok(TRICKY.includes(name), `link text ${JSON.stringify(name)} is a file name`);
    const res = await fetch(new URL(unentity(href), base));
    assert.equal(res.status, 200, name);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), files()[name], name);
  }
});

test('listing: ?sort=size&order=desc orders the HTML and the JSON, folders first', async (t) => {
  const tree = await makeTree({
    small: bytes(1),
    big: bytes(300),
    mid: bytes(20),
    zdir: {},
    adir: {},
  });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const res = await rawGet(server.url, '/?sort=size&order=desc', JSON_ACCEPT);
  const names = (JSON.parse(res.body.toString()) as { entries: { name: string }[] }).entries.map(
    (e) => e.name,
  );
  assert.deepEqual(names, ['zdir', 'adir', 'big', 'mid', 'small']);
  const html = (await rawGet(server.url, '/?sort=size&order=desc')).body.toString();
  const order = [...html.matchAll(/data-name="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(order, names);
  assert.match(html, /<th scope="col" class="size" aria-sort="descending">/);
});

test('listing: hidden names are left out unless dotfiles is on', async (t) => {
  const tree = await makeTree({ '.env': 'secret', 'a.txt': 'a' });
  t.after(tree.cleanup);
  const names = async (dotfiles: boolean) => {
    const server = await listen(t, { root: tree.dir, dotfiles });
    const res = await rawGet(server.url, '/', JSON_ACCEPT);
    return (JSON.parse(res.body.toString()) as { entries: { name: string }[] }).entries.map(
      (e) => e.name,
    );
  };
  assert.deepEqual(await names(false), ['a.txt']);
  assert.deepEqual(await names(true), ['.env', 'a.txt']);
});

test("listing: modification times are the files' own, in ISO 8601", async (t) => {
  const tree = await makeTree({ 'old.txt': 'x' });
  t.after(tree.cleanup);
  await utimes(
    join(tree.dir, 'old.txt'),
    new Date('2001-02-03T04:05:06Z'),
    new Date('2001-02-03T04:05:06Z'),
  );
  const server = await listen(t, { root: tree.dir });
  const res = await rawGet(server.url, '/', JSON_ACCEPT);
  const [entry] = (JSON.parse(res.body.toString()) as { entries: { mtime: string }[] }).entries;
  assert.equal(entry?.mtime, '2001-02-03T04:05:06.000Z');
  const html = (await rawGet(server.url, '/')).body.toString();
  assert.match(html, /<time datetime="2001-02-03T04:05:06\.000Z">2001-02-03 04:05 UTC<\/time>/);
});

test('ranged serve --no-listing answers 404 for a folder without an index, and still serves files and index files', async (t) => {
  const tree = await makeTree({
    'a.txt': bytes(100),
    site: { 'index.html': '<p>home</p>' },
    empty: {},
  });
  t.after(tree.cleanup);
  const { child, url } = await startServeCli(tree.dir, ['--no-listing', '--quiet']);
  t.after(() => child.kill('SIGKILL'));
  assert.equal((await rawGet(url, '/')).status, 404);
  assert.equal((await rawGet(url, '/', JSON_ACCEPT)).status, 404);
  assert.equal((await rawGet(url, '/empty/')).status, 404);
  const file = await rawGet(url, '/a.txt');
  assert.equal(file.status, 200);
  assert.deepEqual(file.body, bytes(100));
  const site = await rawGet(url, '/site/');
  assert.equal(site.status, 200);
  assert.equal(site.body.toString(), '<p>home</p>');
});

test('ranged serve --index FILE serves FILE for folder URLs and lists folders without it', async (t) => {
  const tree = await makeTree({
    'home.htm': '<p>root home</p>',
    'index.html': '<p>not the index now</p>',
    docs: { 'index.html': '<p>ignored</p>', 'page.txt': 'p' },
  });
  t.after(tree.cleanup);
  const { child, url } = await startServeCli(tree.dir, ['--index', 'home.htm', '--quiet']);
  t.after(() => child.kill('SIGKILL'));
  const root = await rawGet(url, '/');
  assert.equal(root.status, 200);
  assert.equal(root.body.toString(), '<p>root home</p>');
  assert.match(root.headers['content-type'] ?? '', /^text\/html/);
  // docs/ has an index.html but no home.htm: it gets a listing that shows index.html as a file.
  const docs = await rawGet(url, '/docs/', JSON_ACCEPT);
  assert.equal(docs.status, 200);
  const names = (JSON.parse(docs.body.toString()) as { entries: { name: string }[] }).entries.map(
    (e) => e.name,
  );
  assert.deepEqual(names, ['index.html', 'page.txt']);
  // Range requests work on the index file too.
  const ranged = await rawGet(url, '/', { Range: 'bytes=3-6' });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.body.toString(), 'root');
});
