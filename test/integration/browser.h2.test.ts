/**
 * Chromium as a real HTTP/2 client: over https (the test certificate, errors ignored) it loads the
 * listing with h2, and the listing's audio player plays and seeks with Range requests the server
 * receives as HTTP/2 streams and answers 206.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';
import { testCertificate } from '../helpers/tls.js';
import { makeTree } from '../helpers/tree.js';
import { sineWav } from '../helpers/wav.js';

const SECONDS = 60;
const BYTES_PER_SECOND = 48_000 * 2 * 2;
const WAV = sineWav({ seconds: SECONDS, sampleRate: 48_000, channels: 2 });
const AUDIO = 'tr[data-name="tone.wav"] audio';

const media = (page: Page) =>
  page.locator(AUDIO).evaluate((el) => {
    const a = el as unknown as { currentTime: number; paused: boolean; error: unknown };
    return { currentTime: a.currentTime, paused: a.paused, error: a.error !== null };
  });

test('browser over h2: the listing loads with HTTP/2 and the audio player seeks with 206 over HTTP/2 streams', async (t) => {
  const cert = testCertificate();
  assert.ok(cert, 'openssl makes the test certificate');
  const tree = await makeTree({ 'tone.wav': WAV, 'readme.txt': 'tone' });
  t.after(tree.cleanup);
  const seen: { version: string; range: string }[] = [];
  const log: string[] = [];
  const server = await listen(t, {
    root: tree.dir,
    tls: { cert: cert.cert, key: cert.key },
    closeGrace: 300,
    log: (line) => log.push(line),
  });
  server.server.prependListener(
    'request',
    (req: { url?: string; httpVersion: string; headers: { range?: string } }) => {
      if (req.url === '/tone.wav')
        seen.push({ version: req.httpVersion, range: req.headers.range ?? '' });
    },
  );
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

  const response = await page.goto(`${server.url}/`);
  assert.equal(response?.status(), 200);
  // The page runs in the browser: its `performance` is the DOM's, typed loosely here.
  const protocol = await page.evaluate(() => {
    const perf = performance as unknown as {
      getEntriesByType(type: string): { nextHopProtocol: string }[];
    };
    return perf.getEntriesByType('navigation')[0]?.nextHopProtocol;
  });
  assert.equal(protocol, 'h2');
  assert.equal(await page.locator('tr[data-name="readme.txt"]').count(), 1);

  const audio = page.locator(AUDIO);
  await audio.evaluate((el) => (el as unknown as { play(): Promise<void> }).play());
  await waitFor('playback', async () => {
    const state = await media(page);
    assert.equal(state.error, false, 'media error');
    return state.currentTime > 0.3 ? state : undefined;
  });
  const before = seen.length;
  const target = SECONDS / 2;
  await audio.evaluate((el, to) => {
    (el as unknown as { currentTime: number }).currentTime = to;
  }, target);
  await waitFor(
    'playback past the seek',
    async () => {
      const state = await media(page);
      assert.equal(state.error, false, 'media error');
      return state.currentTime > target + 0.5 && !state.paused ? state : undefined;
    },
    { timeoutMs: 15_000 },
  );
  const targetByte = 44 + target * BYTES_PER_SECOND;
  const seek = seen.slice(before).find((r) => {
    const start = Number(/^bytes=(\d+)-/.exec(r.range)?.[1] ?? Number.NaN);
    return start > targetByte - 1_000_000 && start <= targetByte;
  });
  assert.ok(seek, `a Range request near byte ${targetByte}: ${JSON.stringify(seen)}`);
  assert.equal(seek.version, '2.0');
  assert.ok(
    seen.every((r) => r.version === '2.0'),
    'every media request came over HTTP/2',
  );
  await waitFor('a 206 in the access log', () =>
    log.some((line) => /^GET \/tone\.wav 206(\(aborted\))? \d+ \d+ms$/.test(line))
      ? true
      : undefined,
  );
});
