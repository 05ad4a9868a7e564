/**
 * Uploads from the listing page in a real headless Chromium against the real CLI server
 * (`ranged serve DIR --uploads`): a 64 MiB file survives a reload mid-upload without sending
 * its confirmed bytes twice, a dropped network is ridden out, and the control stays tidy at
 * phone width and in dark mode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { artifact, launchBrowser, waitFor } from '../helpers/browser.js';
import { startServeCli } from '../helpers/cli.js';
import { startTcpMeter } from '../helpers/tcp-meter.js';
import { makeTree } from '../helpers/tree.js';

const TOKEN = 'browser-upload-token-1';
const MiB = 1024 * 1024;

/** Bytes the server holds for its unfinished uploads (their data files). */
async function storedBytes(dir: string): Promise<number> {
  const base = join(dir, '.ranged-uploads', 'u');
  let total = 0;
  let ids: string[] = [];
  try {
    ids = await readdir(base);
  } catch {
    return 0;
  }
  for (const id of ids) {
    try {
      total += (await stat(join(base, id, 'data'))).size;
    } catch {
      // not written yet, or completed meanwhile
    }
  }
  return total;
}

async function serve(t: { after(fn: () => unknown): void }, tree: Record<string, unknown> = {}) {
  const dir = (await makeTree({ music: {}, ...(tree as object) })).dir;
  const server = await startServeCli(dir, ['--uploads', '--upload-token', TOKEN, '--quiet']);
  t.after(() => server.child.kill('SIGKILL'));
  return { dir, url: server.url };
}

async function statusOf(page: Page, name: string): Promise<string> {
  return (
    (await page.locator('li.upload', { hasText: name }).locator('.status').textContent()) ?? ''
  );
}

test('a 64 MiB upload from the page survives a reload mid-upload, sends under 1.25x its size, and appears in the listing', async (t) => {
  const { dir, url } = await serve(t);
  // Slowed so the reload lands mid-upload: about 16 MiB/s, a few seconds for the whole file.
  const meter = await startTcpMeter(url, 16 * MiB);
  t.after(() => meter.close());
  const data = randomBytes(64 * MiB);
  // A file on disk, so choosing it again gives the same lastModified (a buffer's is "now").
  const source = await makeTree({ 'take1.wav': data });
  t.after(() => source.cleanup());
  const local = join(source.dir, 'take1.wav');

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${meter.url}/music/`);
  await page.getByLabel('Upload token').fill(TOKEN);
  const files = page.getByLabel('Choose files');
  await files.setInputFiles(local);
  await waitFor(
    'the server to hold some of the bytes',
    async () => (await storedBytes(dir)) > MiB,
    {
      timeoutMs: 30_000,
    },
  );
  const before = await storedBytes(dir);
  assert.ok(before < data.length, 'still uploading at the reload');
  const keys = await page.evaluate<string[]>('Object.keys(localStorage)');
  assert.equal(keys.filter((k) => k.startsWith('ranged.upload')).length, 1, 'URL kept');
  assert.ok(
    await page.evaluate<boolean>(`sessionStorage.getItem('ranged.uploadToken') !== null`),
    'token kept for the tab',
  );
  assert.equal(
    await page.evaluate<boolean>(
      `Object.values(localStorage).join(' ').includes('browser-upload')`,
    ),
    false,
    'no token in localStorage',
  );

  await page.reload();
  // The token is remembered for this tab: not asked again.
  assert.equal(await page.getByLabel('Upload token').isVisible(), false);
  await page.getByLabel('Choose files').setInputFiles(local);
  await page.getByRole('link', { name: 'take1.wav', exact: true }).waitFor({ timeout: 60_000 });
  const stored = await readFile(join(dir, 'music', 'take1.wav'));
  assert.equal(stored.length, data.length);
  assert.ok(stored.equals(data), 'byte-identical');
  assert.ok(
    meter.sent < 1.25 * data.length,
    `the server received ${meter.sent} bytes for a ${data.length}-byte file`,
  );
  assert.match(await statusOf(page, 'take1.wav'), /uploaded/);
  assert.equal(
    await page.evaluate<number>(
      `Object.keys(localStorage).filter((k) => k.startsWith('ranged.upload')).length`,
    ),
    0,
    'the entry is removed on completion',
  );
  const progress = page.locator('li.upload progress');
  assert.equal(await progress.getAttribute('max'), String(data.length));
  assert.equal(
    await progress.evaluate((p) => {
      const bar = p as unknown as { value: number; max: number };
      return bar.value === bar.max;
    }),
    true,
  );
});

test('a dropped network is retried by the page with backoff, and the upload completes', async (t) => {
  const { dir, url } = await serve(t);
  const meter = await startTcpMeter(url, 8 * MiB);
  t.after(() => meter.close());
  const data = randomBytes(12 * MiB);
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${meter.url}/`);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'flaky.bin', mimeType: 'application/octet-stream', buffer: data });
  await waitFor('some bytes stored', async () => (await storedBytes(dir)) > 256 * 1024);
  meter.cut();
  await page.getByRole('link', { name: 'flaky.bin', exact: true }).waitFor({ timeout: 60_000 });
  assert.ok((await readFile(join(dir, 'flaky.bin'))).equals(data));
  assert.ok(meter.sent < 1.25 * data.length, `${meter.sent} bytes sent`);
});

test('the upload control at phone width and in dark mode: screenshots, no horizontal overflow', async (t) => {
  const { url } = await serve(t, {
    music: { 'a very long file name of a live recording, take 12 (final mix).wav': 'x' },
  });
  const browser = await launchBrowser(t);
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      colorScheme: scheme,
    });
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${url}/music/`);
    await page.getByLabel('Upload token').fill(TOKEN);
    await page.getByLabel('Choose files').setInputFiles([
      {
        name: `another rather long name for a phone screen, recorded 2024-05-01 (${scheme}).wav`,
        mimeType: 'audio/wav',
        buffer: randomBytes(64 * 1024),
      },
      {
        name: 'a very long file name of a live recording, take 12 (final mix).wav',
        mimeType: 'audio/wav',
        buffer: Buffer.from('y'),
      },
    ]);
    await page.locator('li.upload[data-state="done"]').waitFor();
    await page.locator('li.upload[data-state="failed"]').waitFor();
    assert.match(await statusOf(page, 'take 12'), /a file with this name exists/);
    const fits = await page.evaluate<boolean>(
      'document.scrollingElement.scrollWidth <= window.innerWidth',
    );
    assert.ok(fits, `no horizontal overflow at 390px (${scheme})`);
    const dark = await page.evaluate<boolean>(`matchMedia('(prefers-color-scheme: dark)').matches`);
    assert.equal(dark, scheme === 'dark');
    await page.screenshot({ path: await artifact(`upload-phone-${scheme}.png`), fullPage: true });
    await context.close();
  }
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${url}/music/`);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page.screenshot({ path: await artifact('upload-desktop-dark.png'), fullPage: true });
});
