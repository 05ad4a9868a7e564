/**
 * CORS in a real Chromium: a page served from one origin (a second local server, another port)
 * reads a multi-range response (preflighted: a multi-range Range is not CORS-safelisted), reads
 * Content-Range and ETag, and plays and seeks a crossorigin audio element on the ranged origin.
 * All of it works with cors on (any origin, or exactly the page's) and fails without it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { bytes } from '../helpers/bytes.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';
import { sineWav } from '../helpers/wav.js';

const WAV = sineWav({ seconds: 40, sampleRate: 48_000, channels: 2 });
const DATA = bytes(50_000);

/** A page on its own origin with a crossorigin audio element pointing at `ranged`. */
async function pageServer(t: { after(fn: () => unknown): void }) {
  let ranged = '';
  const server = createServer((_req, res) => {
    const html = `<!doctype html><title>player</title>
<audio id="a" crossorigin="anonymous" preload="metadata" src="${ranged}/tone.wav"></audio>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    point: (url: string) => {
      ranged = url;
    },
  };
}

interface Outcome {
  multi: { status: number; type: string | null; etag: string | null; length: number } | string;
  single: { contentRange: string | null; text: number[] } | string;
  seeked: boolean;
}

async function tryFromPage(browser: Browser, pageUrl: string, ranged: string): Promise<Outcome> {
  const page: Page = await (await browser.newContext()).newPage();
  await page.goto(pageUrl);
  const fetched = await page.evaluate(async (base) => {
    const result: Pick<Outcome, 'multi' | 'single'> = { multi: '', single: '' };
    try {
      const res = await fetch(`${base}/data.bin`, { headers: { Range: 'bytes=0-1, 10-11' } });
      const body = await res.arrayBuffer();
      result.multi = {
        status: res.status,
        type: res.headers.get('content-type'),
        etag: res.headers.get('etag'),
        length: body.byteLength,
      };
    } catch (error) {
      result.multi = String(error);
    }
    try {
      const res = await fetch(`${base}/data.bin`, { headers: { Range: 'bytes=100-103' } });
      result.single = {
        contentRange: res.headers.get('content-range'),
        text: [...new Uint8Array(await res.arrayBuffer())],
      };
    } catch (error) {
      result.single = String(error);
    }
    return result;
  }, ranged);
  // Play, seek to 20 s, and see it play on past it (or fail with a media error).
  const seeked = await page.evaluate(async () => {
    // Runs in the page: the DOM, typed loosely (the test project has no DOM types).
    const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } })
      .document;
    const a = doc.getElementById('a') as {
      currentTime: number;
      play(): Promise<void>;
      addEventListener(type: string, listener: () => void): void;
    };
    const failed = new Promise<boolean>((resolve) =>
      a.addEventListener('error', () => resolve(false)),
    );
    const played = (async () => {
      await a.play();
      a.currentTime = 20;
      while (a.currentTime < 20.3) await new Promise((r) => setTimeout(r, 20));
      return true;
    })().catch(() => false);
    return Promise.race([failed, played]);
  });
  return { ...fetched, seeked };
}

const CASES: [string, (pageOrigin: string) => boolean | string | undefined, boolean][] = [
  ['--cors (any origin)', () => true, true],
  ['--cors ORIGIN (the page origin)', (origin) => origin, true],
  ['--cors ORIGIN (another origin)', () => 'http://other.example', false],
  ['no --cors', () => undefined, false],
];

for (const [name, cors, allowed] of CASES) {
  test(`browser CORS, ${name}: a page on another origin ${allowed ? 'can' : 'cannot'} read ranges and seek`, async (t) => {
    const tree = await makeTree({ 'tone.wav': WAV, 'data.bin': DATA });
    t.after(tree.cleanup);
    const page = await pageServer(t);
    const log: string[] = [];
    const option = cors(page.origin);
    const server = await listen(t, {
      root: tree.dir,
      log: (line) => log.push(line),
      ...(option === undefined ? {} : { cors: option }),
    });
    page.point(server.url);
    const browser = await launchBrowser(t);
    const outcome = await tryFromPage(browser, `${page.origin}/`, server.url);
    if (allowed) {
      assert.deepEqual(typeof outcome.multi, 'object', String(outcome.multi));
      const multi = outcome.multi as Exclude<Outcome['multi'], string>;
      assert.equal(multi.status, 206);
      assert.match(multi.type ?? '', /^multipart\/byteranges; boundary=/);
      assert.match(multi.etag ?? '', /^"/, 'ETag is exposed');
      assert.deepEqual(outcome.single, {
        contentRange: `bytes 100-103/${DATA.length}`,
        text: [...DATA.subarray(100, 104)],
      });
      assert.equal(outcome.seeked, true, 'the crossorigin audio plays past the seek');
      // The multi-range fetch was preflighted.
      await waitFor('the preflight in the log', () =>
        log.some((line) => /^OPTIONS \/data\.bin 204 /.test(line)) ? true : undefined,
      );
      assert.ok(
        log.some((line) => /^GET \/tone\.wav 206/.test(line)),
        log.join('\n'),
      );
    } else {
      assert.match(String(outcome.multi), /TypeError/);
      assert.match(String(outcome.single), /TypeError/);
      assert.equal(outcome.seeked, false);
    }
  });
}
