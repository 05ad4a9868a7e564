/**
 * The listing's audio player in a real headless Chromium: it plays a generated WAV, seeks with
 * Range requests the server answers 206 (read from the server's own access log), and keeps playing
 * across a server restart on the same port, resuming with a new Range request.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/server.js';
import { artifact, launchBrowser, waitFor } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';
import { sineWav } from '../helpers/wav.js';

// 60 s of 48 kHz 16-bit stereo: 11.5 MB, far more than Chromium reads ahead of the playhead
// (a few MB), so a seek to the middle cannot be served from what it already has.
const SECONDS = 60;
const BYTES_PER_SECOND = 48_000 * 2 * 2;
const WAV = sineWav({ seconds: SECONDS, sampleRate: 48_000, channels: 2 });
const AUDIO = 'tr[data-name="tone.wav"] audio';

/** Starts a server that records its access log and the Range header of each request. */
async function observedServer(
  t: { after(fn: () => unknown): void },
  root: string,
  port = 0,
): Promise<{ server: RunningServer; log: string[]; ranges: string[] }> {
  const log: string[] = [];
  const ranges: string[] = [];
  const server = await listen(t, { root, port, closeGrace: 300, log: (line) => log.push(line) });
  server.server.prependListener('request', (req: IncomingMessage) => {
    if (req.url === '/tone.wav') ranges.push(req.headers.range ?? '(none)');
  });
  return { server, log, ranges };
}

const media = (page: Page) =>
  page.locator(AUDIO).evaluate((el) => {
    const a = el as unknown as {
      currentTime: number;
      duration: number;
      paused: boolean;
      readyState: number;
      error: { code: number; message: string } | null;
    };
    return {
      currentTime: a.currentTime,
      duration: a.duration,
      paused: a.paused,
      readyState: a.readyState,
      error: a.error && `${a.error.code} ${a.error.message}`,
    };
  });

/** Waits until the element plays past `seconds` (bounded); fails early on a media error. */
async function playsPast(page: Page, seconds: number) {
  return waitFor(
    `playback past ${seconds} s`,
    async () => {
      const state = await media(page);
      assert.equal(state.error, null, 'media error');
      return state.currentTime > seconds && !state.paused ? state : undefined;
    },
    { timeoutMs: 15_000 },
  );
}

/** The first byte of `bytes=N-` or `bytes=N-M`. */
const rangeStart = (range: string) => Number(/^bytes=(\d+)-/.exec(range)?.[1] ?? Number.NaN);

/** Access-log lines for the WAV answered 206 (complete, or cut when the player moved on). */
const partials = (log: string[]) =>
  log.filter((line) => /^GET \/tone\.wav 206(\(aborted\))? \d+ \d+ms$/.test(line));

test('browser: the audio player plays, seeks with 206 Range responses, and resumes after a server restart on the same port', async (t) => {
  assert.ok(WAV.length > 10_000_000);
  const tree = await makeTree({ 'tone.wav': WAV, 'readme.txt': 'tone' });
  t.after(tree.cleanup);
  const first = await observedServer(t, tree.dir);
  const port = Number(new URL(first.server.url).port);
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 1100, height: 420 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The HTTP cache would answer repeated ranges with a revalidation (304) instead of a 206; this
  // test is about what the server is asked, so every byte must come from it.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

  await page.goto(`${first.server.url}/`);
  const audio = page.locator(AUDIO);
  assert.equal(await audio.getAttribute('preload'), 'metadata');
  assert.equal(await audio.getAttribute('src'), 'tone.wav');
  await waitFor('metadata', async () => ((await media(page)).readyState >= 1 ? true : undefined));
  assert.equal((await media(page)).duration, SECONDS);
  assert.match(first.ranges[0] ?? '', /^bytes=0-/, 'Chromium asks for a range from the start');

  // Play from the start.
  await audio.evaluate((el) => (el as unknown as { play(): Promise<void> }).play());
  await playsPast(page, 0.3);

  // Seek to the middle: Chromium must ask for bytes near 30 s, and the server answers 206.
  const target = SECONDS / 2;
  const rangesBefore = first.ranges.length;
  const logBefore = first.log.length;
  await audio.evaluate((el, to) => {
    (el as unknown as { currentTime: number }).currentTime = to;
  }, target);
  const reached = await playsPast(page, target + 0.5);
  assert.ok(reached.currentTime < target + 10, `plays on from the seek, at ${reached.currentTime}`);
  const seekRanges = first.ranges.slice(rangesBefore);
  const targetByte = 44 + target * BYTES_PER_SECOND;
  assert.ok(
    seekRanges.some((r) => rangeStart(r) > targetByte - 1_000_000 && rangeStart(r) <= targetByte),
    `a Range request starts just before byte ${targetByte}: ${seekRanges.join(', ')}`,
  );
  await waitFor('a 206 for the seek in the access log', () =>
    partials(first.log.slice(logBefore)).length > 0 ? true : undefined,
  );
  await page.screenshot({ path: await artifact('player.png') });

  // Stop the server mid-playback: nothing answers on the port any more.
  await first.server.close();
  await assert.rejects(fetch(`${first.server.url}/readme.txt`));
  const playingThrough = await media(page);
  assert.equal(playingThrough.paused, false);

  // Start it again on the same port, then seek further: the player resumes with a new Range
  // request to the restarted server, which answers 206, and playback continues past the target.
  const second = await observedServer(t, tree.dir, port);
  assert.equal(second.server.url, first.server.url);
  const later = SECONDS * 0.75;
  await audio.evaluate((el, to) => {
    (el as unknown as { currentTime: number }).currentTime = to;
  }, later);
  await playsPast(page, later + 0.5);
  const laterByte = 44 + later * BYTES_PER_SECOND;
  assert.ok(
    second.ranges.some((r) => rangeStart(r) > laterByte - 1_000_000 && rangeStart(r) <= laterByte),
    `the restarted server is asked for bytes near ${laterByte}: ${second.ranges.join(', ')}`,
  );
  await waitFor("a 206 in the restarted server's access log", () =>
    partials(second.log).length > 0 ? true : undefined,
  );
  assert.deepEqual(errors, []);
});
