/**
 * Issue 9 §2 and §4: a listing's cost is bounded (pages of 1,000 entries, a cap on entries read,
 * one shared read for concurrent requests) and names that are not UTF-8 are listed and reachable.
 * The time and memory targets (20 listings of 100,000 entries) are measured in `npm run bench`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareNames } from '../../src/server/listing/order.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';

const JSON_ACCEPT = { Accept: 'application/json' };

interface Doc {
  path: string;
  page: number;
  pages: number;
  total: number;
  truncated: boolean;
  next: string | null;
  prev: string | null;
  entries: { name: string; kind: string; size: number | null; href: string }[];
}

async function getJson(url: string, path: string): Promise<Doc> {
  const res = await rawGet(url, path, JSON_ACCEPT);
  assert.equal(res.status, 200, `${path}: ${res.body.toString().slice(0, 200)}`);
  return JSON.parse(res.body.toString('utf8')) as Doc;
}

/** A folder of `count` files `f-<i>.txt` of i % 97 bytes, and two folders. */
async function bigFolder(t: { after(fn: () => unknown): void }, count: number) {
  const tree = await makeTree({ 'a-dir': {}, 'z-dir': {} });
  t.after(tree.cleanup);
  for (let i = 0; i < count; i++) {
    writeFileSync(join(tree.dir, `f-${i}.txt`), Buffer.alloc(i % 97, 0x61));
  }
  return tree.dir;
}

test('listing: a folder of 2,502 entries is listed 1,000 a page, with the totals and links on', async (t) => {
  const dir = await bigFolder(t, 2_500);
  const server = await listen(t, { root: dir });
  const first = await getJson(server.url, '/');
  assert.equal(first.entries.length, 1_000);
  assert.deepEqual(
    { page: first.page, pages: first.pages, total: first.total, truncated: first.truncated },
    { page: 1, pages: 3, total: 2_502, truncated: false },
  );
  assert.equal(first.next, '?page=2');
  assert.equal(first.prev, null);
  assert.deepEqual(
    first.entries.slice(0, 3).map((e) => e.name),
    ['a-dir', 'z-dir', 'f-0.txt'],
  );
  const last = await getJson(server.url, '/?page=3');
  assert.equal(last.entries.length, 502);
  assert.equal(last.next, null);
  assert.equal(last.prev, '?page=2');
  // Past the last page: the last page. Every name appears exactly once across the pages.
  assert.equal((await getJson(server.url, '/?page=99')).page, 3);
  const second = await getJson(server.url, '/?page=2');
  const names = [...first.entries, ...second.entries, ...last.entries].map((e) => e.name);
  assert.equal(new Set(names).size, 2_502);

  const html = (await rawGet(server.url, '/?page=2')).body.toString();
  assert.match(html, /Showing 1,001–2,000 of 2,502 entries/);
  assert.match(html, /href="\?page=3" rel="next"/);
  // The pager is above the table and below it.
  assert.equal((html.match(/<nav class="pager"/g) ?? []).length, 2);
  assert.match(html, /href="\.\/" rel="first"/);
  assert.match(html, /data-pages="3"/);
  assert.equal((html.match(/<tr class="(file|dir) /g) ?? []).length, 1_000);
  // The summary counts the whole folder, not the page.
  assert.match(html, /2 folders · 2500 files/);
});

test('listing: sorted pages follow one order across the whole folder', async (t) => {
  const dir = await bigFolder(t, 1_500);
  const server = await listen(t, { root: dir });
  const pages = [
    await getJson(server.url, '/?sort=size&order=desc'),
    await getJson(server.url, '/?sort=size&order=desc&page=2'),
  ];
  assert.equal(pages[0]?.next, '?sort=size&order=desc&page=2');
  const files = pages.flatMap((p) => p.entries).filter((e) => e.kind === 'file');
  assert.equal(files.length, 1_500);
  const expected = [...files].sort(
    (a, b) => (b.size ?? 0) - (a.size ?? 0) || -compareNames(a.name, b.name),
  );
  assert.deepEqual(
    files.map((e) => e.name),
    expected.map((e) => e.name),
  );
});

test('listing: at most maxEntries are read, and the page says there were more', async (t) => {
  const dir = await bigFolder(t, 300);
  const server = await listen(t, { root: dir, listingLimits: { maxEntries: 100, pageSize: 40 } });
  const doc = await getJson(server.url, '/?page=3');
  assert.deepEqual(
    { total: doc.total, truncated: doc.truncated, pages: doc.pages, shown: doc.entries.length },
    { total: 100, truncated: true, pages: 3, shown: 20 },
  );
  const html = (await rawGet(server.url, '/')).body.toString();
  assert.match(html, /only the first 100 entries read are listed/);
});

test('listing: twenty listings of one folder at once all get the same complete answer', async (t) => {
  const dir = await bigFolder(t, 5_000);
  const server = await listen(t, { root: dir });
  const docs = await Promise.all(
    Array.from({ length: 20 }, (_, i) => getJson(server.url, `/?page=${(i % 5) + 1}`)),
  );
  for (const [i, doc] of docs.entries()) {
    assert.equal(doc.total, 5_002);
    assert.equal(doc.page, (i % 5) + 1);
    assert.equal(doc.entries.length, doc.page === 6 ? 2 : 1_000);
  }
  // A file added afterwards shows up: a small folder is never served from an old read, and a big
  // one only within 2 s (here the folder changed, so its read is not reused at all).
  writeFileSync(join(dir, 'new.txt'), 'new');
  assert.equal((await getJson(server.url, '/')).total, 5_003);
});

test('listing: a name that is not UTF-8 is listed with U+FFFD and a link of its bytes, and served', async (t) => {
  const tree = await makeTree({ 'ok.txt': 'ok' });
  t.after(tree.cleanup);
  const raw = Buffer.concat([Buffer.from(tree.dir), Buffer.from('/'), Buffer.from([0xff, 0xfe])]);
  writeFileSync(Buffer.concat([raw, Buffer.from('.txt')]), 'latin bytes');
  const server = await listen(t, { root: tree.dir });
  const doc = await getJson(server.url, '/');
  const entry = doc.entries.find((e) => e.name !== 'ok.txt');
  assert.deepEqual(entry && { name: entry.name, href: entry.href, size: entry.size }, {
    name: '\uFFFD\uFFFD.txt',
    href: '%FF%FE.txt',
    size: 11,
  });
  const html = (await rawGet(server.url, '/')).body.toString();
  assert.match(html, /href="%FF%FE\.txt"/);
  assert.ok(html.includes('\uFFFD\uFFFD.txt'));
  const file = await rawGet(server.url, '/%FF%FE.txt', { Range: 'bytes=0-4' });
  assert.equal(file.status, 206);
  assert.equal(file.body.toString(), 'latin');
  // A folder with such a name is redirected to with its bytes, listed and entered too.
  mkdirSync(Buffer.concat([raw, Buffer.from('-dir')]));
  writeFileSync(Buffer.concat([raw, Buffer.from('-dir/in.txt')]), 'x');
  const redirect = await rawGet(server.url, '/%FF%FE-dir');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '%FF%FE-dir/');
  const inner = await getJson(server.url, '/%FF%FE-dir/');
  assert.deepEqual(
    inner.entries.map((e) => e.name),
    ['in.txt'],
  );
  assert.equal((await rawGet(server.url, '/%FF%FE-dir/in.txt')).body.toString(), 'x');
});
