/**
 * Issue 10 §3: one sort order. The page's script sorts with the server's own comparator (compiled
 * into the page), so a click on a column header in a real Chromium gives exactly the order the
 * server renders for `?sort=KEY&order=asc|desc`, on a folder chosen to make collators disagree.
 */
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';

/** Name → [size, day of the month it was modified]; equal sizes and days force ties by name. */
const FILES: Record<string, [number, number]> = {
  'file10.txt': [5, 3],
  'file2.txt': [5, 3],
  'File1.txt': [9, 4],
  'file1.txt': [9, 4],
  '.dotfile': [0, 9],
  éclair: [5, 3],
  eclair: [1, 8],
  Ecole: [2, 1],
  '10.txt': [10, 6],
  '9.txt': [10, 6],
  'a b': [3, 2],
  'a-b': [3, 2],
  _under: [4, 2],
  ss: [6, 7],
  ß: [6, 7],
  'v1.10': [1, 1],
  'v1.9': [1, 1],
  'Z.txt': [8, 5],
  'z.txt': [8, 5],
  '日本.md': [3, 5],
  // Shows as "\uFFFD.txt" like the two names below that are not UTF-8.
  '\uFFFD.txt': [7, 2],
};
const RAW_FILES: [number[], number, number][] = [
  [[0xff, 0x2e, 0x74, 0x78, 0x74], 7, 2],
  [[0xfe, 0x2e, 0x74, 0x78, 0x74], 7, 2],
];
const FOLDERS: Record<string, number> = { Zeta: 1, alpha: 5, Ärger: 5, '.git': 7 };

async function trickyFolder(t: { after(fn: () => unknown): void }): Promise<string> {
  const tree = await makeTree();
  t.after(tree.cleanup);
  const day = (d: number) => new Date(Date.UTC(2024, 1, d));
  for (const [name, [size, d]] of Object.entries(FILES)) {
    writeFileSync(join(tree.dir, name), Buffer.alloc(size, 0x61));
    utimesSync(join(tree.dir, name), day(d), day(d));
  }
  for (const [bytes, size, d] of RAW_FILES) {
    const path = Buffer.concat([Buffer.from(`${tree.dir}/`), Buffer.from(bytes)]);
    writeFileSync(path, Buffer.alloc(size, 0x62));
    utimesSync(path, day(d), day(d));
  }
  for (const [name, d] of Object.entries(FOLDERS)) {
    mkdirSync(join(tree.dir, name));
    utimesSync(join(tree.dir, name), day(d), day(d));
  }
  return tree.dir;
}

const rowHrefs = (page: Page) =>
  page.$$eval('tbody.entries tr', (rows) =>
    rows.map((r) => r.querySelector('a.link')?.getAttribute('href')),
  );

test('browser: clicking each column header sorts a tricky folder exactly as the server does, both ways', async (t) => {
  const dir = await trickyFolder(t);
  const server = await listen(t, { root: dir, dotfiles: true });
  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });

  // Starts from the server's newest-first order; each click then sorts from the previous order.
  await page.goto(`${server.url}/?sort=mtime&order=desc`);
  const steps: [string, 'name' | 'size' | 'mtime', 'asc' | 'desc'][] = [
    ['Name', 'name', 'asc'],
    ['Name', 'name', 'desc'],
    ['Size', 'size', 'asc'],
    ['Size', 'size', 'desc'],
    ['Modified', 'mtime', 'asc'],
    ['Modified', 'mtime', 'desc'],
  ];
  for (const [label, key, order] of steps) {
    await page.getByRole('button', { name: label, exact: true }).click();
    assert.match(page.url(), new RegExp(`\\?sort=${key}&order=${order}$`));
    const res = await rawGet(server.url, `/?sort=${key}&order=${order}`, {
      Accept: 'application/json',
    });
    const doc = JSON.parse(res.body.toString('utf8')) as { entries: { href: string }[] };
    const expected = doc.entries.map((e) => e.href);
    assert.equal(expected.length, 4 + Object.keys(FILES).length + RAW_FILES.length);
    assert.deepEqual(await rowHrefs(page), expected, `${key} ${order}`);
  }
  // The server also renders the last order itself, on a reload.
  const clicked = await rowHrefs(page);
  await page.reload();
  assert.deepEqual(await rowHrefs(page), clicked);
  assert.deepEqual(problems, []);
});
