/**
 * download() against the fault-injecting origin: every test compares the saved bytes with the
 * fixture, whose byte i depends on i.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type DownloadOptions,
  type DownloadProgress,
  download,
  partPaths,
} from '../../src/client/download.js';
import { decodeJournal } from '../../src/core/journal.js';
import {
  ChecksumMismatchError,
  FileSystemError,
  HttpStatusError,
  JournalError,
  NetworkError,
  ProtocolError,
} from '../../src/errors.js';
import { fixture, type Origin, type OriginOptions, startOrigin } from '../helpers/origin.js';
import { quietFor, waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;

/**
 * A checksum mismatch rejects with the true digest and leaves nothing under OUT, nor the part file.
 */
async function assertMismatch(done: Promise<unknown>, actual: string, out: string) {
  await assert.rejects(done, (e: unknown) => {
    assert.ok(e instanceof ChecksumMismatchError);
    assert.equal(e.actual, actual);
    return true;
  });
  assert.equal(await exists(out), false);
  assert.equal(await exists(partPaths(out).part), false);
}

async function setup(
  t: { after(fn: () => Promise<void>): void },
  body: Buffer,
  options: Partial<OriginOptions> = {},
): Promise<{ origin: Origin; out: string; dir: string }> {
  const origin = await startOrigin(body, options);
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-'));
  t.after(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { origin, out: join(dir, 'out.bin'), dir };
}

/** Fast retries and small segments, so tests stay short. */
function opts(out: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { output: out, retryDelay: 5, maxRetryDelay: 50, minSegment: 64 * 1024, ...extra };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Starts a download and aborts it once `bytes` are held; resolves when it has stopped. */
async function interruptAfter(url: string, options: DownloadOptions, bytes: number): Promise<void> {
  const controller = new AbortController();
  const handle = download(url, {
    ...options,
    signal: controller.signal,
    progressInterval: 10,
    onProgress: (p) => {
      if (p.bytes >= bytes) controller.abort();
    },
  });
  await assert.rejects(handle.done, { code: 'ERR_ABORTED' });
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

function sha1(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex');
}

async function readJournal(out: string) {
  const decoded = decodeJournal(await readFile(partPaths(out).journal, 'utf8'));
  assert.equal(decoded.kind, 'ok');
  return decoded.kind === 'ok' ? decoded.journal : assert.fail('no journal');
}

test('download() fetches a file over 4 connections, byte for byte', async (t) => {
  const body = fixture(6 * MiB + 123);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 8 * MiB });
  const progress: DownloadProgress[] = [];
  const onProgress = (p: DownloadProgress): number => progress.push(p);
  const result = await download(origin.url, opts(out, { progressInterval: 5, onProgress })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.size, body.length);
  assert.equal(result.restarts, 0);
  assert.equal(await exists(partPaths(out).part), false);
  assert.equal(await exists(partPaths(out).journal), false);
  const ranged = origin.requests.filter((r) => r.status === 206);
  assert.ok(ranged.length >= 4, `expected 4+ range requests, got ${ranged.length}`);
  for (const r of origin.requests) assert.equal(r.acceptEncoding, 'identity');
  // Requests after the probe carry If-Range with the strong ETag.
  for (const r of ranged.slice(1)) assert.equal(r.ifRange, '"v1-6291579"');
  assert.ok(progress.every((p) => p.total === undefined || p.bytes <= p.total));
  assert.ok(progress.some((p) => p.connections > 1));
});

test('download() resumes at the byte where a dropped connection stopped', async (t) => {
  const body = fixture(3 * MiB + 5);
  const { origin, out } = await setup(t, body, { dropAfter: 300_000, dropResponses: 5 });
  const notices: string[] = [];
  const result = await download(
    origin.url,
    opts(out, { connections: 2, onNotice: (m) => notices.push(m) }),
  ).done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(
    notices.some((m) => /connection reset|closed/.test(m)),
    notices.join('\n'),
  );
  // Each retry asks for the missing tail only: nothing is fetched twice except bytes in flight.
  assert.ok(result.fetchedBytes <= body.length + 5 * 300_000);
});

test('download() retries a 503 and honours Retry-After', async (t) => {
  const body = fixture(200_000);
  const { origin, out } = await setup(t, body, { failFirst: 2, failStatus: 503, retryAfter: '0' });
  const notices: string[] = [];
  await download(origin.url, opts(out, { onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(origin.requests.filter((r) => r.status === 503).length, 2);
  assert.ok(
    notices.some((m) => /503/.test(m) && /retrying in 0\.0 s/.test(m)),
    notices.join('\n'),
  );
});

test('download() gives up after --retries and reports the status', async (t) => {
  const body = fixture(1000);
  const { origin, out } = await setup(t, body, { failFirst: 100, failStatus: 500 });
  await assert.rejects(download(origin.url, opts(out, { retries: 2 })).done, (e: unknown) => {
    assert.ok(e instanceof HttpStatusError);
    assert.equal(e.status, 500);
    return true;
  });
  assert.equal(origin.requests.length, 3);
  assert.equal(await exists(out), false);
});

test('download() fails at once on a 404', async (t) => {
  const body = fixture(1000);
  const { origin, out } = await setup(t, body);
  await assert.rejects(download(`${origin.base}/missing`, opts(out)).done, (e: unknown) => {
    assert.ok(e instanceof HttpStatusError);
    assert.equal(e.status, 404);
    assert.match(e.message, /404/);
    return true;
  });
  assert.equal(origin.requests.length, 1);
});

test('download() streams from a server without range support', async (t) => {
  const body = fixture(5 * MiB);
  const { origin, out } = await setup(t, body, { ranges: false });
  const notices: string[] = [];
  await download(origin.url, opts(out, { connections: 4, onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(origin.requests.length, 1);
  assert.ok(notices.some((m) => /does not support ranges/.test(m)));
});

test('download() resumes from a server without range support by skipping held bytes', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, { ranges: false, bytesPerSecond: 8 * MiB });
  await interruptAfter(origin.url, opts(out), MiB);
  const journal = await readJournal(out);
  assert.equal(journal.acceptRanges, false);
  origin.options.bytesPerSecond = undefined;
  const result = await download(origin.url, opts(out, { checksum: `sha1:${sha1(body)}` })).done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(result.resumedBytes > 0);
  // A 200 is never appended to the partial data: the second request had no Range.
  assert.equal(origin.requests.at(-1)?.range, undefined);
});

test('download() drops connections a server refuses and finishes with fewer', async (t) => {
  const body = fixture(4 * MiB);
  const { origin, out } = await setup(t, body, {
    maxConnections: 2,
    refuseStatus: 403,
    bytesPerSecond: 8 * MiB,
  });
  const notices: string[] = [];
  await download(origin.url, opts(out, { connections: 4, onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(origin.requests.some((r) => r.status === 403));
  assert.ok(
    notices.some((m) => /refused/.test(m)),
    notices.join('\n'),
  );
});

test('download() steals work from a slow connection', async (t) => {
  const body = fixture(4 * MiB);
  // The connection that starts at 3 MiB crawls at 64 KiB/s: alone it would need 16 s.
  const { origin, out } = await setup(t, body, {
    slowStart: { at: 3 * MiB, bytesPerSecond: 64 * 1024 },
  });
  // The hash follows the finished prefix while the thief and the victim write out of order.
  const hex = sha256(body);
  const result = await download(
    origin.url,
    opts(out, { connections: 4, minSegment: 16 * 1024, checksum: `sha256:${hex}` }),
  ).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.checksum?.hex, hex);
  const starts = origin.requests.map((r) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1]));
  assert.ok(
    starts.some((s) => s > 3 * MiB),
    `no request started inside the slow segment: ${starts.join(', ')}`,
  );
});

test('download() retries a connection that stalls', async (t) => {
  const body = fixture(500_000);
  const { origin, out } = await setup(t, body, { hangAfter: 100_000 });
  const notices: string[] = [];
  await download(origin.url, opts(out, { stallTimeout: 300, onNotice: (m) => notices.push(m) }))
    .done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(
    notices.some((m) => /no data for 0\.3 s/.test(m)),
    notices.join('\n'),
  );
  assert.match(origin.requests[1]?.range ?? '', /^bytes=\d+-/);
  assert.notEqual(origin.requests[1]?.range, 'bytes=0-');
});

test('download() resumes after an abort with If-Range and fetches only what is missing', async (t) => {
  const body = fixture(6 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  await interruptAfter(origin.url, opts(out, { connections: 2, saveInterval: 50 }), 2 * MiB);
  assert.equal(await exists(out), false);
  const journal = await readJournal(out);
  assert.equal(journal.url, origin.url);
  assert.equal(journal.etag, '"v1-6291456"');
  const held = journal.done.reduce((n, s) => n + s.end - s.start, 0);
  assert.ok(held >= 2 * MiB);
  origin.options.bytesPerSecond = undefined;
  const before = origin.requests.length;
  const result = await download(origin.url, opts(out, { connections: 2 })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.resumedBytes, held);
  assert.equal(result.fetchedBytes, body.length - held);
  for (const r of origin.requests.slice(before)) assert.equal(r.ifRange, '"v1-6291456"');
});

test('download() restarts cleanly when the remote file changed between runs', async (t) => {
  const body = fixture(3 * MiB);
  const next = fixture(3 * MiB, 1);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  await interruptAfter(origin.url, opts(out, { saveInterval: 50 }), MiB);
  origin.replace(next);
  origin.options.bytesPerSecond = undefined;
  const notices: string[] = [];
  const result = await download(origin.url, opts(out, { onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), next);
  assert.equal(result.restarts, 1);
  assert.ok(
    notices.some((m) => /changed/.test(m)),
    notices.join('\n'),
  );
});

test('download() detects a changed file when the server ignores If-Range', async (t) => {
  const body = fixture(3 * MiB);
  const next = fixture(3 * MiB, 2);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB, ignoreIfRange: true });
  await interruptAfter(origin.url, opts(out, { saveInterval: 50 }), MiB);
  origin.replace(next);
  origin.options.bytesPerSecond = undefined;
  const result = await download(origin.url, opts(out)).done;
  assert.deepEqual(await readFile(out), next);
  assert.equal(result.restarts, 1);
});

test('download() sends the date in If-Range when the ETag is weak', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, { etag: 'weak', bytesPerSecond: 4 * MiB });
  await interruptAfter(origin.url, opts(out, { saveInterval: 50 }), MiB);
  origin.options.bytesPerSecond = undefined;
  const before = origin.requests.length;
  const result = await download(origin.url, opts(out)).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.restarts, 0);
  assert.ok(result.resumedBytes > 0);
  assert.equal(origin.requests[before]?.ifRange, 'Mon, 01 Jan 2024 00:00:01 GMT');
});

test('download() starts over rather than trust a resume without validators', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, {
    etag: 'none',
    lastModified: false,
    bytesPerSecond: 4 * MiB,
  });
  await interruptAfter(origin.url, opts(out, { saveInterval: 50 }), MiB);
  origin.options.bytesPerSecond = undefined;
  const notices: string[] = [];
  const result = await download(origin.url, opts(out, { onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.resumedBytes, 0);
  assert.ok(
    notices.some((m) => /cannot be proven/.test(m)),
    notices.join('\n'),
  );
});

test('download() refuses a lying Content-Range and keeps its progress', async (t) => {
  const body = fixture(2 * MiB);
  const { origin, out } = await setup(t, body, { lieContentRange: true });
  await assert.rejects(download(origin.url, opts(out, { connections: 4 })).done, (e: unknown) => {
    assert.ok(e instanceof ProtocolError);
    assert.match(e.message, /asked for bytes \d+-\d+, the 206 has "bytes \d+-\d+\/2097152"/);
    return true;
  });
  assert.equal(await exists(out), false);
  // The misplaced 206 was asked for once more on a fresh request before giving up.
  const lies = origin.requests.filter((r) => r.status === 206 && r.range !== 'bytes=0-');
  const asked = lies[0]?.range;
  assert.equal(lies.filter((r) => r.range === asked).length, 2, lies.map((r) => r.range).join());
  // Whatever was saved is correct data at the right offsets.
  const journal = await readJournal(out);
  const part = await readFile(partPaths(out).part);
  for (const s of journal.done)
    assert.deepEqual(part.subarray(s.start, s.end), body.subarray(s.start, s.end));
});

test('download() asks again once after a 206 that does not cover the range', async (t) => {
  const body = fixture(2 * MiB);
  const { origin, out } = await setup(t, body, { lieContentRange: true, lieResponses: 1 });
  const notices: string[] = [];
  const result = await download(
    origin.url,
    opts(out, { connections: 4, onNotice: (m) => notices.push(m) }),
  ).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.restarts, 0);
  assert.ok(
    notices.some((m) => /the 206 has .*asking again/.test(m)),
    notices.join('\n'),
  );
});

test('download() reads past the extra prefix of a 206 that starts earlier than asked', async (t) => {
  const body = fixture(2 * MiB + 77);
  const { origin, out } = await setup(t, body, { earlyStart: 4096 + 3 });
  const result = await download(origin.url, opts(out, { connections: 4 })).done;
  assert.deepEqual(await readFile(out), body);
  const early = origin.requests.filter((r) => {
    const asked = /^bytes=(\d+)-/.exec(r.range ?? '');
    const got = /^bytes (\d+)-/.exec(r.contentRange ?? '');
    return asked !== null && got !== null && Number(got[1]) < Number(asked[1]);
  });
  assert.ok(early.length >= 3, origin.requests.map((r) => `${r.range} ${r.contentRange}`).join());
  assert.equal(result.restarts, 0);
});

test('download() resumes through a 206 that starts earlier than asked', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  await interruptAfter(origin.url, opts(out, { connections: 2, saveInterval: 50 }), MiB);
  const held = (await readJournal(out)).done.reduce((n, s) => n + s.end - s.start, 0);
  origin.options.bytesPerSecond = undefined;
  origin.options.earlyStart = 10_000;
  const before = origin.requests.length;
  const result = await download(origin.url, opts(out, { connections: 2 })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.restarts, 0);
  assert.equal(result.resumedBytes, held);
  // The probe asked for the first missing segment and got a response starting earlier.
  const probe = origin.requests[before];
  assert.equal(probe?.status, 206);
  assert.notEqual(probe?.range, 'bytes=0-');
  assert.equal(probe?.ifRange, '"v1-3145728"');
});

test('download() refuses an encoded body', async (t) => {
  const { origin, out } = await setup(t, fixture(1000), { fakeGzip: true });
  await assert.rejects(download(origin.url, opts(out)).done, ProtocolError);
});

test('download() pauses with the journal saved and resumes', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  let paused = false;
  const states: string[] = [];
  const handle = download(
    origin.url,
    opts(out, {
      checksum: `sha512:${createHash('sha512').update(body).digest('hex')}`,
      progressInterval: 10,
      onProgress: (p) => {
        states.push(p.state);
        if (!paused && p.bytes >= MiB) {
          paused = true;
          handle.pause();
        }
      },
    }),
  );
  // State 'paused' is reported once the pause has taken effect: the journal is saved by then.
  await waitFor('the paused state', () => states.includes('paused'), { timeoutMs: 30_000 });
  assert.equal(handle.paused, true);
  // The server sees the closes a moment later than the client makes them.
  await waitFor('every connection closed', () => origin.open === 0);
  const journal = await readJournal(out);
  assert.ok(journal.done.length > 0);
  const part = await readFile(partPaths(out).part);
  for (const s of journal.done)
    assert.deepEqual(part.subarray(s.start, s.end), body.subarray(s.start, s.end));
  const requests = origin.requests.length;
  await quietFor(100);
  assert.equal(origin.requests.length, requests, 'no request while paused');
  origin.options.bytesPerSecond = undefined;
  handle.resume();
  const result = await handle.done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(states.includes('paused'));
  assert.equal(result.restarts, 0);
  assert.ok(result.fetchedBytes < body.length + MiB);
});

test('download() follows redirects and keeps the given URL in the journal', async (t) => {
  const body = fixture(3 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  const url = `${origin.base}/redirect/3`;
  await interruptAfter(url, opts(out, { saveInterval: 50 }), MiB);
  assert.equal((await readJournal(out)).url, url);
  origin.options.bytesPerSecond = undefined;
  const result = await download(url, opts(out)).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.url, origin.url);
});

for (const status of [403, 410]) {
  test(`download() resolves an expired redirect target (${status}) again and continues`, async (t) => {
    const body = fixture(4 * MiB + 9);
    // Each signed URL answers 2 requests, then `status`; dropped connections force reopens.
    const { origin, out } = await setup(t, body, {
      signedRequests: 2,
      expiredStatus: status,
      dropAfter: 700_000,
      dropResponses: 4,
    });
    const notices: string[] = [];
    const result = await download(
      `${origin.base}/signed`,
      opts(out, { connections: 4, onNotice: (m) => notices.push(m) }),
    ).done;
    assert.deepEqual(await readFile(out), body);
    assert.equal(result.restarts, 0);
    const expired = origin.requests.filter((r) => r.status === status);
    assert.ok(expired.length >= 1, origin.requests.map((r) => `${r.url} ${r.status}`).join());
    const resolved = origin.requests.filter((r) => r.url === '/signed').length;
    assert.ok(resolved >= 2, `resolved ${resolved} times`);
    assert.ok(
      notices.some((m) => new RegExp(`redirect target answered ${status}: resolved`).test(m)),
      notices.join('\n'),
    );
    // The requests to new targets still carried the journal's validator.
    for (const r of origin.requests.filter((r) => r.url === '/signed').slice(1))
      assert.equal(r.ifRange, '"v1-4194313"');
  });
}

test('download() restarts when a re-resolved redirect target serves a changed file', async (t) => {
  const body = fixture(3 * MiB + 11);
  const next = fixture(3 * MiB + 11, 3);
  // The first signed URL answers one request (the probe, cut after 700 KB); the reopen gets 403,
  // so "/signed" is resolved again, and by then the file behind it has been replaced.
  const { origin, out } = await setup(t, body, {
    signedRequests: 1,
    dropAfter: 700_000,
    dropResponses: 1,
    onSigned: (resolved) => {
      if (resolved === 2) origin.replace(next);
    },
  });
  const notices: string[] = [];
  const result = await download(
    `${origin.base}/signed`,
    opts(out, {
      connections: 1,
      checksum: `sha256:${sha256(next)}`,
      onNotice: (m) => notices.push(m),
    }),
  ).done;
  assert.deepEqual(await readFile(out), next);
  assert.equal(result.restarts, 1);
  assert.ok(
    notices.some((m) => /redirect target answered 403: resolved/.test(m)),
    notices.join('\n'),
  );
  assert.ok(
    notices.some((m) => /Remote file changed .*starting over/.test(m)),
    notices.join('\n'),
  );
  // The new target was asked with the old version's validator, and answered with the new file.
  const changed = origin.requests.find((r) => r.url.startsWith('/s/1/'));
  assert.equal(changed?.ifRange, '"v1-3145739"');
  assert.equal(changed?.status, 200);
  assert.equal(await exists(partPaths(out).journal), false);
});

test('download() stops after too many redirects', async (t) => {
  const { origin, out } = await setup(t, fixture(10));
  await assert.rejects(
    download(`${origin.base}/redirect/20`, opts(out, { maxRedirects: 5 })).done,
    /more than 5 redirects/,
  );
});

test('download() verifies a checksum before the rename', async (t) => {
  const body = fixture(1 * MiB);
  const { origin, out } = await setup(t, body);
  const hex = createHash('sha256').update(body).digest('hex');
  const result = await download(origin.url, opts(out, { checksum: `sha256:${hex}` })).done;
  assert.deepEqual(result.checksum, { algorithm: 'sha256', hex });
  assert.deepEqual(await readFile(out), body);
});

test('download() leaves nothing under OUT on a checksum mismatch', async (t) => {
  const body = fixture(1 * MiB);
  const { origin, out } = await setup(t, body);
  await assertMismatch(
    download(origin.url, opts(out, { checksum: `md5:${'0'.repeat(32)}` })).done,
    createHash('md5').update(body).digest('hex'),
    out,
  );
});

test('download() verifies a checksum hashed while 4 connections write out of order', async (t) => {
  const body = fixture(6 * MiB + 77);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 8 * MiB });
  const hex = sha256(body);
  const result = await download(
    origin.url,
    opts(out, { connections: 4, checksum: `sha256:${hex}` }),
  ).done;
  assert.deepEqual(result.checksum, { algorithm: 'sha256', hex });
  assert.deepEqual(await readFile(out), body);
  assert.ok(origin.requests.filter((r) => r.status === 206).length >= 4);
});

test('download() reports the true digest of a mismatch over 4 connections', async (t) => {
  const body = fixture(6 * MiB + 77);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 8 * MiB });
  await assertMismatch(
    download(origin.url, opts(out, { connections: 4, checksum: `sha256:${'0'.repeat(64)}` })).done,
    sha256(body),
    out,
  );
  assert.equal(await exists(partPaths(out).journal), false);
});

test('download() verifies a checksum across a resume, hashing the held prefix once', async (t) => {
  const body = fixture(6 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  const hex = sha256(body);
  const options = opts(out, { connections: 4, saveInterval: 50, checksum: `sha256:${hex}` });
  await interruptAfter(origin.url, options, 2 * MiB);
  assert.equal(await exists(out), false);
  origin.options.bytesPerSecond = undefined;
  const result = await download(
    origin.url,
    opts(out, { connections: 4, checksum: `sha256:${hex}` }),
  ).done;
  assert.ok(result.resumedBytes > 0);
  assert.deepEqual(await readFile(out), body);
});

test('download() discards a resumed download whose checksum does not match', async (t) => {
  const body = fixture(6 * MiB);
  const { origin, out } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  const wrong = `md5:${'f'.repeat(32)}`;
  await interruptAfter(origin.url, opts(out, { connections: 4, saveInterval: 50 }), 2 * MiB);
  origin.options.bytesPerSecond = undefined;
  await assertMismatch(
    download(origin.url, opts(out, { connections: 4, checksum: wrong })).done,
    createHash('md5').update(body).digest('hex'),
    out,
  );
});

test('download() refuses to replace an existing file without force', async (t) => {
  const body = fixture(1000);
  const { origin, out } = await setup(t, body);
  await writeFile(out, 'keep me');
  await assert.rejects(download(origin.url, opts(out)).done, FileSystemError);
  assert.equal(await readFile(out, 'utf8'), 'keep me');
  await download(origin.url, opts(out, { force: true })).done;
  assert.deepEqual(await readFile(out), body);
});

const badJournals: [string, string][] = [
  ['garbage', 'garbage'],
  ['a newer format', '{"format":"ranged-journal","version":9}'],
  [
    'another URL',
    '{"format":"ranged-journal","version":1,"url":"http://elsewhere/x","size":10,"acceptRanges":true,"done":[[0,5]]}',
  ],
];
for (const [name, text] of badJournals) {
  test(`download() reports a journal holding ${name} and never trusts it`, async (t) => {
    const body = fixture(1000);
    const { origin, out } = await setup(t, body);
    await writeFile(partPaths(out).journal, text);
    await writeFile(partPaths(out).part, Buffer.alloc(10));
    await assert.rejects(download(origin.url, opts(out)).done, JournalError);
    assert.equal(origin.requests.length, 0);
    await download(origin.url, opts(out, { force: true })).done;
    assert.deepEqual(await readFile(out), body);
  });
}

test('download() starts over when the part file does not match the journal', async (t) => {
  const body = fixture(100_000);
  const { origin, out } = await setup(t, body);
  const journal = `{"format":"ranged-journal","version":1,"url":"${origin.url}","size":100000,"etag":"\\"v1-100000\\"","acceptRanges":true,"done":[[0,50000]]}`;
  await writeFile(partPaths(out).journal, journal);
  await writeFile(partPaths(out).part, Buffer.alloc(10)); // truncated behind the journal's back
  const notices: string[] = [];
  const result = await download(origin.url, opts(out, { onNotice: (m) => notices.push(m) })).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.resumedBytes, 0);
  assert.ok(notices.some((m) => /starting over/.test(m)));
});

test('download() reports a refused connection as a NetworkError without retrying', async (t) => {
  const { origin, out } = await setup(t, fixture(10));
  const url = origin.url;
  await origin.close();
  await assert.rejects(download(url, opts(out)).done, (e: unknown) => {
    assert.ok(e instanceof NetworkError);
    assert.match(e.message, /connection refused/);
    return true;
  });
});

test('download() saves an empty file', async (t) => {
  const { origin, out } = await setup(t, Buffer.alloc(0));
  const result = await download(origin.url, opts(out)).done;
  assert.equal(result.size, 0);
  assert.equal((await readFile(out)).length, 0);
});

test('download() stays correct under limitRate', async (t) => {
  const body = fixture(300_000);
  const { origin, out } = await setup(t, body);
  await download(origin.url, opts(out, { limitRate: 1024 * 1024, connections: 2 })).done;
  assert.deepEqual(await readFile(out), body);
});

test('download() races a slow tail on an idle connection instead of waiting for it', async (t) => {
  const body = fixture(4 * MiB);
  // The first range response crawls at 32 KiB/s: alone, its 1 MiB segment would take 32 s. With
  // 1 MiB segments nothing can be split, so only a race can take its remainder.
  const { origin, out } = await setup(t, body, {
    slowFirst: { requests: 1, bytesPerSecond: 32 * 1024 },
  });
  // Raced bytes are written twice: the checksum must hash them once.
  const hex = sha256(body);
  const result = await download(
    origin.url,
    opts(out, { connections: 4, minSegment: MiB, checksum: `sha256:${hex}` }),
  ).done;
  assert.deepEqual(await readFile(out), body);
  assert.equal(result.checksum?.hex, hex);
  const slow = origin.requests[0];
  assert.equal(slow?.status, 206);
  assert.equal(slow?.finished, false, 'the slow response was cut, not waited for');
  assert.ok((slow?.sent ?? 0) < MiB / 2, `the slow response sent ${slow?.sent}`);
  // The racer asked for the slow segment's remainder, up to the byte before 1 MiB, and got it all.
  const racer = origin.requests.find((r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
    return m !== null && Number(m[1]) > 0 && Number(m[1]) < MiB && Number(m[2]) === MiB - 1;
  });
  assert.ok(racer !== undefined, origin.requests.map((r) => r.range).join(', '));
  assert.equal(racer.finished, true);
  assert.equal(racer.ifRange, '"v1-4194304"');
  // Racing costs at most the slow connection's overlap, never a second copy of the file.
  assert.ok(result.fetchedBytes < body.length + MiB / 2, `fetched ${result.fetchedBytes}`);
});

test('download() reconnects a connection far slower than the others', async (t) => {
  const body = fixture(16 * MiB);
  const { origin, out } = await setup(t, body, {
    bytesPerSecond: 2 * MiB,
    slowFirst: { requests: 1, bytesPerSecond: 32 * 1024 },
  });
  const notices: string[] = [];
  await download(
    origin.url,
    opts(out, {
      connections: 4,
      minSegment: MiB,
      slowGrace: 200,
      onNotice: (m) => notices.push(m),
    }),
  ).done;
  assert.deepEqual(await readFile(out), body);
  assert.ok(
    notices.some((m) => /much slower than the others: reconnecting/.test(m)),
    notices.join('\n'),
  );
  assert.equal(origin.requests[0]?.finished, false);
  // The new request continues the slow segment [0, 4 MiB) where it stopped.
  const sent = origin.requests[0]?.sent ?? 0;
  assert.ok(
    origin.requests.some((r) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
      return m !== null && Number(m[1]) > 0 && Number(m[1]) <= sent && Number(m[2]) === 4 * MiB - 1;
    }),
    origin.requests.map((r) => r.range).join(', '),
  );
});
