/**
 * The listing page in a real headless Chromium: rendering, sorting and navigation by clicking and
 * keyboard, escaping of hostile names, downloads, and the copy-command button.
 */
import assert from 'node:assert/strict';
import { readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/server.js';
import { artifact, launchBrowser } from '../helpers/browser.js';
import { bytes } from '../helpers/bytes.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';
import { sineWav } from '../helpers/wav.js';

/** A real RGB PNG with a diagonal gradient (so the preview shows something). */
function gradientPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (1 + width * 3) + 1 + x * 3;
      raw[at] = 40 + Math.round((180 * x) / width);
      raw[at + 1] = 90 + Math.round((120 * y) / height);
      raw[at + 2] = 220 - Math.round((100 * (x + y)) / (width + height));
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const HOSTILE = [
  '<img src=x onerror=alert(1)>.txt',
  '"><svg onload=alert(2)>.txt',
  "' onmouseover='alert(3)' x='.txt",
  'a#b?c%d.txt',
];

async function fixture() {
  const files: Record<string, Buffer> = {
    'notes 2.txt': bytes(2_000, 1),
    'notes 10.txt': bytes(10, 2),
    'archive.zip': bytes(123_456, 3),
    'disk image.iso': bytes(3_500_000, 4),
    'café ünï 日本.md': Buffer.from('# café\n'),
    README: bytes(1, 5),
    'tone.wav': sineWav({ seconds: 4, sampleRate: 8_000, channels: 1 }),
    'sunset.png': gradientPng(160, 100),
  };
  HOSTILE.forEach((name, i) => {
    files[name] = bytes(100 + i, 10 + i);
  });
  const tree = await makeTree({
    ...files,
    Music: { 'song.wav': sineWav({ seconds: 1 }) },
    photos: {},
  });
  // Distinct, known modification times: README is the newest, notes 10.txt the oldest.
  const names = Object.keys(files).sort();
  for (const [i, name] of names.entries()) {
    const when = new Date(Date.UTC(2024, 0, 1 + i, 12, 0, 0));
    await utimes(join(tree.dir, name), when, when);
  }
  const newest = new Date(Date.UTC(2024, 5, 1));
  const oldest = new Date(Date.UTC(2020, 0, 1));
  await utimes(join(tree.dir, 'README'), newest, newest);
  await utimes(join(tree.dir, 'notes 10.txt'), oldest, oldest);
  return { ...tree, files };
}

// One tree, server and browser for the whole file; each test gets its own browser context.
let tree: Awaited<ReturnType<typeof fixture>>;
let server: RunningServer;
let browser: Browser;
const cleanups: (() => unknown)[] = [];
const suite = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  tree = await fixture();
  suite.after(tree.cleanup);
  server = await listen(suite, { root: tree.dir });
  browser = await launchBrowser(suite);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A page that records script errors, CSP violations (console errors) and dialogs. */
async function openPage(
  t: { after(fn: () => unknown): void },
  options: BrowserContextOptions = {},
) {
  const context = await browser.newContext(options);
  t.after(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { context, page, problems, dialogs };
}

const rowNames = (page: Page) =>
  page.$$eval('tbody.entries tr', (rows) => rows.map((r) => r.getAttribute('data-name')));

const sortState = (page: Page) =>
  page.$$eval('thead th', (ths) =>
    ths.map((th) => `${th.textContent?.trim()}:${th.getAttribute('aria-sort') ?? '-'}`),
  );

test('browser: the listing renders a breadcrumb, folders first, human sizes, kinds and previews, with no error or CSP violation', async (t) => {
  const shots: [string, BrowserContextOptions][] = [
    ['listing-light.png', { viewport: { width: 1280, height: 900 } }],
    ['listing-dark.png', { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' }],
    [
      'listing-phone.png',
      {
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      },
    ],
  ];
  for (const [name, options] of shots) {
    const { page, problems, dialogs } = await openPage(t, options);
    const res = await page.goto(`${server.url}/`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.title(), 'Index of /');
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link');
    assert.deepEqual(await crumbs.allInnerTexts(), ['Home']);
    const names = await rowNames(page);
    assert.deepEqual(names.slice(0, 2), ['Music', 'photos']);
    assert.equal(names.length, 2 + 8 + HOSTILE.length);
    const row = page.locator('tr[data-name="disk image.iso"]');
    assert.equal(await row.locator('td.size').textContent(), '3.3 MiB');
    assert.equal(await row.locator('td.size span').getAttribute('title'), '3500000 bytes');
    assert.equal(
      await page.locator('tr[data-name="tone.wav"] audio').getAttribute('preload'),
      'metadata',
    );
    const img = page.locator('tr[data-name="sunset.png"] img');
    assert.equal(await img.getAttribute('loading'), 'lazy');
    await img.scrollIntoViewIfNeeded();
    assert.equal(
      await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth),
      160,
    );
    if (name !== 'listing-phone.png') {
      assert.equal(await row.locator('td.kind').textContent(), 'ISO archive');
      // Sizes are right-aligned.
      assert.equal(
        await page.evaluate<string>(
          `getComputedStyle(document.querySelector('tr[data-name="disk image.iso"] td.size')).textAlign`,
        ),
        'right',
      );
    }
    // The table is a real table with column headers, and the page fits the phone's width.
    assert.equal((await page.getByRole('columnheader').count()) >= 3, true);
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - innerWidth',
    );
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);
    await page.screenshot({ path: await artifact(name), fullPage: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
  }
});

test('browser: clicking column headers sorts by size and date with aria-sort; Enter works on a focused header; reload keeps the order', async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(`${server.url}/`);

  const files = Object.entries(tree.files);
  const bySize = files
    .sort(([a, x], [b, y]) => x.length - y.length || (a < b ? -1 : 1))
    .map(([n]) => n);
  assert.deepEqual(
    (await sortState(page)).filter((s) => !s.endsWith(':-')),
    ['Name:ascending'],
  );

  await page.getByRole('button', { name: 'Size', exact: true }).click();
  assert.deepEqual((await rowNames(page)).slice(2), bySize);
  assert.deepEqual(
    (await sortState(page)).filter((s) => !s.endsWith(':-')),
    ['Size:ascending'],
  );

  await page.getByRole('button', { name: 'Size', exact: true }).click();
  assert.deepEqual((await rowNames(page)).slice(2), [...bySize].reverse());
  assert.deepEqual((await rowNames(page)).slice(0, 2), ['photos', 'Music'], 'folders stay first');
  assert.deepEqual(
    (await sortState(page)).filter((s) => !s.endsWith(':-')),
    ['Size:descending'],
  );

  // Keyboard: focus the Modified header's button and press Enter, twice: newest first.
  await page.getByRole('button', { name: 'Modified', exact: true }).focus();
  await page.keyboard.press('Enter');
  assert.equal((await rowNames(page))[2], 'notes 10.txt');
  await page.keyboard.press('Enter');
  assert.equal((await rowNames(page))[2], 'README');
  assert.deepEqual(
    (await sortState(page)).filter((s) => !s.endsWith(':-')),
    ['Modified:descending'],
  );
  assert.match(
    (await page.locator('caption').textContent()) ?? '',
    /sorted by modified, descending/,
  );

  // The order lives in the URL, and the server renders it on reload.
  assert.match(page.url(), /\?sort=mtime&order=desc$/);
  const before = await rowNames(page);
  await page.reload();
  assert.deepEqual(await rowNames(page), before);
  assert.deepEqual(
    (await sortState(page)).filter((s) => !s.endsWith(':-')),
    ['Modified:descending'],
  );
  assert.deepEqual(problems, []);
});

test('browser: clicking a folder, the parent row and the breadcrumb navigates', async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(`${server.url}/`);

  await page.getByRole('link', { name: 'Music', exact: true }).click();
  await page.waitForURL(`${server.url}/Music/`);
  assert.equal(await page.title(), 'Index of /Music/');
  assert.deepEqual(await rowNames(page), ['song.wav']);
  const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link');
  assert.deepEqual(await crumbs.allInnerTexts(), ['Home', 'Music']);
  assert.equal(await crumbs.last().getAttribute('aria-current'), 'page');

  await page.getByRole('link', { name: 'Parent folder' }).click();
  await page.waitForURL(`${server.url}/`);
  assert.equal(await page.title(), 'Index of /');

  await page.getByRole('link', { name: 'Music', exact: true }).click();
  await page.waitForURL(`${server.url}/Music/`);
  await page
    .getByRole('navigation', { name: 'Breadcrumb' })
    .getByRole('link', { name: 'Home' })
    .click();
  await page.waitForURL(`${server.url}/`);
  assert.equal((await rowNames(page)).length, 2 + 8 + HOSTILE.length);
  assert.deepEqual(problems, []);
});

test('browser: hostile names render as text, run nothing, and download the right bytes', async (t) => {
  const { page, problems, dialogs } = await openPage(t);
  await page.goto(`${server.url}/`);

  // Every link's text is exactly a file name; no markup got through.
  const texts = await page.$$eval('tbody.entries a.link', (links) =>
    links.map((a) => a.textContent),
  );
  const expected = ['Music', 'photos', ...Object.keys(tree.files)];
  assert.deepEqual([...texts].sort(), [...expected].sort());
  assert.equal(await page.locator('svg[onload], img[onerror], [onmouseover]').count(), 0);
  assert.equal(await page.locator('img').count(), 1, 'only the real preview is an image');

  for (const name of HOSTILE) {
    const link = page.locator('tbody.entries a.link', { hasText: name }).first();
    await link.hover(); // would fire an injected onmouseover
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: `Download ${name}`, exact: true }).click(),
    ]);
    assert.deepEqual(await readFile(await download.path()), tree.files[name], name);
    // The name link itself leads to the same file, even with # ? % in it.
    const href = await link.getAttribute('href');
    const res = await page.request.get(new URL(href ?? '', `${server.url}/`).href);
    assert.equal(res.status(), 200, name);
    assert.deepEqual(await res.body(), tree.files[name], name);
  }
  await page.waitForTimeout(200); // let any injected handler have its chance
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
});

test('browser: "Copy command" puts ranged get <absolute URL> on the clipboard and confirms it visibly', async (t) => {
  const { page, problems } = await openPage(t, {
    permissions: ['clipboard-read', 'clipboard-write'],
    viewport: { width: 1280, height: 900 },
  });
  await page.goto(`${server.url}/`);

  const name = 'a#b?c%d.txt';
  const button = page.getByRole('button', { name: `Copy resume command for ${name}`, exact: true });
  await button.click();
  const command = `ranged get ${server.url}/a%23b%3Fc%25d.txt`;
  assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), command);
  await page.locator('.toast.show').waitFor();
  assert.equal(await page.locator('.toast').textContent(), `Copied: ${command}`);
  assert.equal(await page.locator('.toast').getAttribute('role'), 'status');
  assert.equal(await button.textContent(), 'Copied');
  await page.waitForTimeout(250); // the toast's fade-in, for the screenshot
  await page.screenshot({ path: await artifact('listing-copied.png') });
  assert.deepEqual(problems, []);
});

test('browser: without the Clipboard API, "Copy command" falls back and still shows the command', async (t) => {
  const { context, page, problems } = await openPage(t);
  await context.addInitScript(
    "Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined })",
  );
  await page.goto(`${server.url}/`);
  assert.equal(await page.evaluate<unknown>('navigator.clipboard'), undefined);
  await page.getByRole('button', { name: 'Copy resume command for tone.wav', exact: true }).click();
  await page.locator('.toast.show').waitFor();
  const command = `ranged get ${server.url}/tone.wav`;
  // execCommand('copy') either worked ("Copied: …") or the command is shown to copy by hand.
  assert.match(
    (await page.locator('.toast').textContent()) ?? '',
    new RegExp(`^(Copied: |Copy this command:)${command.replace(/[.?]/g, '\\$&')}$`),
  );
  assert.deepEqual(problems, []);
});

test('browser: a folder of several pages sorts on the server across every page, and the pager moves on', async (t) => {
  const many: Record<string, Buffer> = {};
  // 1,005 files; the biggest ones have names that sort first, so a size sort must reorder pages.
  for (let i = 0; i < 1_005; i++) many[`item-${String(i).padStart(4, '0')}.bin`] = bytes(1_005 - i);
  const big = await makeTree(many);
  t.after(big.cleanup);
  const own = await listen(t, { root: big.dir });
  const { page, problems } = await openPage(t, { viewport: { width: 1280, height: 900 } });
  await page.goto(`${own.url}/`);
  assert.equal(await page.locator('tbody.entries tr').count(), 1_000);
  assert.match(
    (await page.locator('nav.pager').first().textContent()) ?? '',
    /Showing 1–1,000 of 1,005/,
  );
  await page.screenshot({ path: await artifact('listing-pages.png') });
  await page.click('th button[data-sort="size"]');
  await page.waitForURL(/\?sort=size&order=asc$/);
  // Ascending by size over the whole folder: the smallest file is the last one by name.
  assert.equal((await rowNames(page))[0], 'item-1004.bin');
  assert.deepEqual(
    (await sortState(page)).filter((s) => s.endsWith('ascending')),
    ['Size:ascending'],
  );
  await page.locator('nav.pager a[rel="next"]').last().click();
  await page.waitForURL(/page=2$/);
  assert.deepEqual(await rowNames(page), [
    'item-0004.bin',
    'item-0003.bin',
    'item-0002.bin',
    'item-0001.bin',
    'item-0000.bin',
  ]);
  assert.deepEqual(problems, []);
});
