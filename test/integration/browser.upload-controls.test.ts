/**
 * The listing page's upload rows in a real headless Chromium against the real CLI server: Pause
 * stops within the chunk and Resume continues, Cancel terminates the upload on the server, and
 * refusals are said in words in the row (409, a wrong token, which is asked again).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import express from 'express';
import type { Page } from 'playwright-core';
import { createHandler } from '../../src/server/handler.js';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { startServeCli } from '../helpers/cli.js';
import { startTcpMeter } from '../helpers/tcp-meter.js';
import { makeTree } from '../helpers/tree.js';
import { terminateBehind } from '../helpers/tus.js';
import { quietFor } from '../helpers/wait.js';

const TOKEN = 'controls-token-2';
const MiB = 1024 * 1024;

async function storedBytes(dir: string): Promise<number> {
  const base = join(dir, '.ranged-uploads', 'u');
  let total = 0;
  for (const id of await readdir(base).catch(() => [] as string[])) {
    total += await stat(join(base, id, 'data')).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}

async function setup(t: { after(fn: () => unknown): void }, rate = 0, extra: string[] = []) {
  const tree = await makeTree({ inbox: { 'exists.txt': 'already here' } });
  t.after(() => tree.cleanup());
  const args = ['--uploads', '--upload-token', TOKEN, '--quiet', ...extra];
  const server = await startServeCli(tree.dir, args);
  t.after(() => server.child.kill('SIGKILL'));
  const meter = await startTcpMeter(server.url, rate);
  t.after(() => meter.close());
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${meter.url}/inbox/`);
  return { dir: tree.dir, url: meter.url, page };
}

function row(page: Page, name: string) {
  return page.locator('li.upload', { hasText: name });
}

async function status(page: Page, name: string): Promise<string> {
  return (await row(page, name).locator('.status').textContent()) ?? '';
}

async function uploadUrl(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>(
    `Object.entries(localStorage).find(([k]) => k.startsWith('ranged.upload'))?.[1]`,
  );
}

test('Pause stops the upload within the chunk; Resume continues from the server offset to a byte-identical file', async (t) => {
  const { dir, page } = await setup(t, 4 * MiB);
  const data = randomBytes(12 * MiB);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'song.flac', mimeType: 'audio/flac', buffer: data });
  await waitFor('some bytes stored', async () => (await storedBytes(dir)) > 512 * 1024);
  await page.getByRole('button', { name: 'Pause song.flac' }).click();
  assert.equal(await row(page, 'song.flac').getAttribute('data-state'), 'paused');
  assert.match(await status(page, 'song.flac'), /paused at \d+ %/);
  // The stored size settles at once (the PATCH in flight was aborted) and stays.
  let last = -1;
  const settled = await waitFor('the stored size to settle', async () => {
    const now = await storedBytes(dir);
    const same = now === last;
    last = now;
    await quietFor(300);
    return same ? now : undefined;
  });
  await quietFor(1_000);
  assert.equal(await storedBytes(dir), settled, 'nothing more is sent while paused');
  assert.ok(settled < data.length);
  assert.equal(await page.getByRole('button', { name: 'Pause song.flac' }).isVisible(), false);
  await page.getByRole('button', { name: 'Resume song.flac' }).click();
  await page.getByRole('link', { name: 'song.flac', exact: true }).waitFor({ timeout: 60_000 });
  assert.ok((await readFile(join(dir, 'inbox', 'song.flac'))).equals(data));
});

test('Cancel terminates the upload on the server (HEAD 404/410), leaves nothing at the target and forgets its URL', async (t) => {
  const { dir, url, page } = await setup(t, 2 * MiB);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page.getByLabel('Choose files').setInputFiles({
    name: 'big.bin',
    mimeType: 'application/octet-stream',
    buffer: randomBytes(8 * MiB),
  });
  await waitFor('some bytes stored', async () => (await storedBytes(dir)) > 256 * 1024);
  const location = await uploadUrl(page);
  if (location === undefined) return assert.fail('no upload URL in localStorage');
  assert.ok(location.startsWith(`${url}/.uploads/`), `upload URL ${location}`);
  await page.getByRole('button', { name: 'Cancel big.bin' }).click();
  await waitFor('cancelled', async () => (await status(page, 'big.bin')) === 'cancelled');
  const head = await fetch(location, {
    method: 'HEAD',
    headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${TOKEN}` },
  });
  assert.ok(head.status === 404 || head.status === 410, `HEAD after cancel: ${head.status}`);
  await assert.rejects(access(join(dir, 'inbox', 'big.bin')));
  assert.equal(await uploadUrl(page), undefined, 'the localStorage entry is removed');
  for (const name of ['Pause', 'Resume', 'Cancel']) {
    assert.equal(await page.getByRole('button', { name: `${name} big.bin` }).isVisible(), false);
  }
});

test('an upload the server forgot (404/410 on resume) starts over and says so', async (t) => {
  const { dir, page } = await setup(t, 4 * MiB);
  const data = randomBytes(6 * MiB);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'gone.bin', mimeType: 'application/octet-stream', buffer: data });
  await waitFor('some bytes stored', async () => (await storedBytes(dir)) > 256 * 1024);
  await page.getByRole('button', { name: 'Pause gone.bin' }).click();
  const location = await uploadUrl(page);
  if (location === undefined) return assert.fail('no upload URL in localStorage');
  // The server forgets it (as an expiry would): terminated behind the page's back.
  const gone = await terminateBehind(location, TOKEN);
  assert.equal(gone, 204);
  await page.getByRole('button', { name: 'Resume gone.bin' }).click();
  await waitFor('the notice', async () =>
    /the upload expired; starting over/.test(await status(page, 'gone.bin')),
  );
  await page.getByRole('link', { name: 'gone.bin', exact: true }).waitFor({ timeout: 60_000 });
  assert.ok((await readFile(join(dir, 'inbox', 'gone.bin'))).equals(data));
});

test('a name that exists is refused in words (409), and nothing is replaced', async (t) => {
  const { dir, page } = await setup(t);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'exists.txt', mimeType: 'text/plain', buffer: Buffer.from('new') });
  await waitFor('the refusal', async () =>
    /a file with this name exists/.test(await status(page, 'exists.txt')),
  );
  assert.equal(await row(page, 'exists.txt').getAttribute('data-state'), 'failed');
  assert.equal(await readFile(join(dir, 'inbox', 'exists.txt'), 'utf8'), 'already here');
  assert.equal(await uploadUrl(page), undefined);
});

test('a file over --max-upload-size is refused in words (413)', async (t) => {
  const { dir, page } = await setup(t, 0, ['--max-upload-size', '1K']);
  await page.getByLabel('Upload token').fill(TOKEN);
  await page.getByLabel('Choose files').setInputFiles({
    name: 'huge.bin',
    mimeType: 'application/octet-stream',
    buffer: randomBytes(4096),
  });
  await waitFor('the refusal', async () => /too large/.test(await status(page, 'huge.bin')));
  await assert.rejects(access(join(dir, 'inbox', 'huge.bin')));
});

test('a wrong token is said in words, forgotten, and asked again; the right one then uploads', async (t) => {
  const { dir, page } = await setup(t);
  const tokenField = page.getByLabel('Upload token');
  assert.equal(await tokenField.getAttribute('type'), 'password');
  await tokenField.fill('not-the-token');
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await waitFor('the refusal', async () => /wrong token/.test(await status(page, 'note.txt')));
  assert.equal(await tokenField.isVisible(), true, 'the token is asked again');
  assert.equal(await page.evaluate<number>('sessionStorage.length'), 0, 'the wrong one forgotten');
  assert.ok(!page.url().includes('token'), 'never in the URL');
  await tokenField.fill(TOKEN);
  await tokenField.press('Enter');
  await page.getByRole('link', { name: 'note.txt', exact: true }).waitFor();
  assert.equal(await readFile(join(dir, 'inbox', 'note.txt'), 'utf8'), 'hello');
  assert.equal(await tokenField.isVisible(), false, 'asked once');
  assert.equal(await page.evaluate<string>(`sessionStorage.getItem('ranged.uploadToken')`), TOKEN);
  assert.equal(await page.evaluate<number>('localStorage.length'), 0);
});

test('under a mount prefix (Express app.use("/files")), the page finds the endpoint relative to itself', async (t) => {
  const tree = await makeTree({ inbox: {} });
  t.after(() => tree.cleanup());
  const handler = createHandler(tree.dir, { uploads: { token: TOKEN } });
  const app = express();
  app.use('/files', handler);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    handler.close();
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.goto(`${url}/files/inbox/`);
  await page.getByLabel('Upload token').fill(TOKEN);
  const data = randomBytes(300 * 1024);
  await page
    .getByLabel('Choose files')
    .setInputFiles({ name: 'mounted.bin', mimeType: 'application/octet-stream', buffer: data });
  await page.getByRole('link', { name: 'mounted.bin', exact: true }).waitFor();
  assert.ok((await readFile(join(tree.dir, 'inbox', 'mounted.bin'))).equals(data));
  assert.ok(requests.includes('POST /files/.uploads/'), requests.join('\n'));
  assert.ok(requests.some((r) => /^PATCH \/files\/\.uploads\/[^/]+$/.test(r)));
});
