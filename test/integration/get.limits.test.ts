/**
 * `ranged get --max-size` and `download({ maxSize })`: a declared length over the limit is refused
 * on the response head, before a byte is written, and leaves the disk as it was; a body without a
 * length is stopped as it passes the limit, and its data is deleted. Neither is retried.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DownloadOptions, download } from '../../src/client/download.js';
import { SizeLimitError, UsageError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { fixture, startOrigin } from '../helpers/origin.js';
import { smallDisk } from '../helpers/small-disk.js';
import { type StreamOrigin, startStreamOrigin } from '../helpers/stream-origin.js';

const MiB = 1024 * 1024;
type Context = { after(fn: () => Promise<void>): void };

async function tempDir(t: Context): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-limits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function streamOrigin(t: Context, options: Parameters<typeof startStreamOrigin>[0]) {
  const origin = await startStreamOrigin(options);
  t.after(() => origin.close());
  return origin;
}

/** The only response of `origin`, once it has ended (a retry would be a second one). */
async function onlyResponse(origin: StreamOrigin) {
  assert.equal(origin.responses.length, 1, 'one request: a size limit is never retried');
  const response = origin.responses[0] as StreamOrigin['responses'][number];
  await response.ended;
  return response;
}

/** stderr ends with the one line `ranged: <expected>` (after any notices), with no stack trace. */
function assertErrorLine(stderr: string, expected: string): void {
  assert.equal(stderr.trimEnd().split('\n').at(-1), `ranged: ${expected}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

/** Fast retries, so that a retry loop would show up as more requests, not as a slow test. */
function opts(output: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { output, retryDelay: 5, maxRetryDelay: 50, ...extra };
}

for (const framing of ['chunked', 'close'] as const) {
  test(`ranged get --max-size 1M stops an endless ${framing} body as it passes 1 MiB: exit 5, nothing under OUT`, async (t) => {
    // Without the limit ranged would save all 64 MiB the origin streams and exit 0.
    const origin = await streamOrigin(t, { framing, limit: 64 * MiB });
    // On a disk of 1 MiB + 64 KiB (where a tmpfs can be mounted), a client that wrote more than
    // about 1 MiB would fail with "no space left on device" (exit 9), not exit 5.
    const dir = smallDisk(t, '1088k') ?? (await tempDir(t));
    const r = await runCli(['get', origin.url, '--max-size', '1M'], { cwd: dir });
    assert.equal(r.code, 5, r.stderr);
    assertErrorLine(
      r.stderr,
      `Cannot download "${origin.url}": the body passed --max-size 1.0 MiB without a declared length; stopped there and deleted the partial data`,
    );
    assert.deepEqual(await readdir(dir), [], 'no OUT, OUT.part or journal');
    const response = await onlyResponse(origin);
    assert.equal(response.endedBy, 'client', 'ranged hung up');
    assert.ok(response.sent < 64 * MiB);
  });
}

test('ranged get --max-size 1M refuses a declared Content-Length of 8 MiB before any body byte is sent', async (t) => {
  // The origin holds the body until the client hangs up (or 10 s: then ranged without the limit
  // would download it and exit 0).
  const origin = await streamOrigin(t, { framing: 'length', length: 8 * MiB, limit: 8 * MiB });
  const dir = await tempDir(t);
  const r = await runCli(['get', origin.url, '--max-size', '1M', '-o', 'out.bin'], { cwd: dir });
  assert.equal(r.code, 5, r.stderr);
  assertErrorLine(
    r.stderr,
    `Cannot download "${origin.url}": the server declares 8.0 MiB (8388608 bytes), more than --max-size 1.0 MiB; nothing was downloaded`,
  );
  assert.deepEqual(await readdir(dir), [], 'no OUT, OUT.part or journal');
  const response = await onlyResponse(origin);
  assert.equal(response.endedBy, 'client');
  assert.equal(response.sent, 0, 'not a byte of the body was sent');
});

test('ranged get refuses a declared length over 64 GiB by default', async (t) => {
  const origin = await streamOrigin(t, {
    framing: 'length',
    length: 64 * 1024 * MiB + 1,
    limit: MiB,
  });
  const dir = await tempDir(t);
  const r = await runCli(['get', origin.url], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(r.code, 5, r.stderr);
  assertErrorLine(
    r.stderr,
    `Cannot download "${origin.url}": the server declares 64.0 GiB (68719476737 bytes), more than --max-size 64.0 GiB; nothing was downloaded`,
  );
  assert.deepEqual(await readdir(dir), []);
  assert.equal((await onlyResponse(origin)).sent, 0);
});

for (const value of ['0', '=-1M', '0.5', 'lots', '1M/s', '1e6']) {
  test(`ranged get --max-size${value.startsWith('=') ? '' : ' '}${value} exits 2 with one line`, async (t) => {
    const dir = await tempDir(t);
    const arg = value.startsWith('=') ? [`--max-size${value}`] : ['--max-size', value];
    const r = await runCli(['get', 'http://127.0.0.1:9/x', ...arg], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assertErrorLine(
      r.stderr,
      `Cannot use --max-size "${value.replace(/^=/, '')}": expected a size of at least 1 byte, such as 500M, 64G or 64GiB`,
    );
  });
}

test('ranged get --help explains --max-size (units, default) and --allow-insecure-redirect', async (t) => {
  const r = await runCli(['get', '--help'], { cwd: await tempDir(t) });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--max-size SIZE +refuse a file larger than SIZE \(exit 5\)/);
  assert.match(r.stdout, /64G, 64GB and 64GiB are the same \(default: 64G\)/);
  assert.match(r.stdout, /--allow-insecure-redirect\n +follow a redirect from https to http/);
});

test('download() with maxSize refuses a 206 whose complete length is larger, and writes nothing', async (t) => {
  const body = fixture(2 * MiB);
  const origin = await startOrigin(body);
  t.after(() => origin.close());
  const dir = await tempDir(t);
  const done = download(origin.url, opts(join(dir, 'out.bin'), { maxSize: MiB })).done;
  await assert.rejects(done, (e: unknown) => {
    assert.ok(e instanceof SizeLimitError);
    assert.equal(e.code, 'ERR_SIZE_LIMIT');
    assert.deepEqual([e.limit, e.size], [MiB, 2 * MiB]);
    assert.equal(
      e.message,
      `Cannot download "${origin.url}": the server declares 2097152 bytes, more than the limit of 1048576 bytes`,
    );
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
  assert.equal(origin.requests.length, 1, 'not retried');
});

test('download() with maxSize saves a body without a length of exactly maxSize bytes, and refuses one more', async (t) => {
  const dir = await tempDir(t);
  const exact = await streamOrigin(t, { framing: 'close', limit: MiB });
  const result = await download(exact.url, opts(join(dir, 'exact.bin'), { maxSize: MiB })).done;
  assert.equal(result.size, MiB);
  const saved = await readFile(join(dir, 'exact.bin'));
  assert.deepEqual(saved, Buffer.concat(Array(16).fill(fixture(64 * 1024))));

  const over = await streamOrigin(t, { framing: 'chunked', limit: MiB + 1 });
  const done = download(over.url, opts(join(dir, 'over.bin'), { maxSize: MiB })).done;
  await assert.rejects(done, (e: unknown) => {
    assert.ok(e instanceof SizeLimitError);
    assert.deepEqual([e.limit, e.size], [MiB, undefined]);
    assert.equal(
      e.message,
      `Cannot download "${over.url}": the body passed the limit of 1048576 bytes without a declared length; the partial data was deleted`,
    );
    return true;
  });
  assert.deepEqual(await readdir(dir), ['exact.bin'], 'nothing left of over.bin');
  await onlyResponse(over);
});

/** Every file in `dir` with its bytes. */
async function snapshot(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = await readFile(join(dir, name));
  return files;
}

test('download() with maxSize keeps an earlier run’s progress when it refuses, even for a grown file', async (t) => {
  const body = fixture(4 * MiB);
  const origin = await startOrigin(body, { bytesPerSecond: 2 * MiB });
  t.after(() => origin.close());
  const dir = await tempDir(t);
  const out = join(dir, 'out.bin');
  const controller = new AbortController();
  const first = download(origin.url, {
    ...opts(out, { connections: 2, minSegment: 256 * 1024 }),
    signal: controller.signal,
    progressInterval: 10,
    onProgress: (p) => {
      if (p.bytes >= MiB) controller.abort();
    },
  });
  await assert.rejects(first.done, { name: 'AbortedError' });
  origin.options.bytesPerSecond = undefined;
  const before = await snapshot(dir);
  assert.ok(before['out.bin.part'] !== undefined && before['out.bin.part.json'] !== undefined);

  // The same file, now over the limit: refused on the probe's head; the disk is unchanged.
  const same = download(origin.url, opts(out, { maxSize: 3 * MiB })).done;
  await assert.rejects(same, { name: 'SizeLimitError', size: 4 * MiB });
  assert.deepEqual(await snapshot(dir), before);

  // The remote file grew past the limit: its verdict would start over (deleting the part file),
  // but the refusal comes first.
  const grown = fixture(6 * MiB, 1);
  origin.replace(grown);
  const changed = download(origin.url, opts(out, { maxSize: 5 * MiB })).done;
  await assert.rejects(changed, { name: 'SizeLimitError', size: 6 * MiB });
  assert.deepEqual(await snapshot(dir), before);

  // With room for it, the next run starts over and saves the new file.
  const result = await download(origin.url, opts(out, { maxSize: 6 * MiB })).done;
  assert.equal(result.restarts, 1);
  assert.deepEqual(await readFile(out), grown);
});

test('download() rejects maxSize 0, -1, 1.5 and NaN with a UsageError, and takes Infinity as no limit', async (t) => {
  const body = fixture(300_000);
  const origin = await startOrigin(body);
  t.after(() => origin.close());
  const out = join(await tempDir(t), 'out.bin');
  for (const maxSize of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(download(origin.url, opts(out, { maxSize })).done, (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(
        e.message,
        `Cannot use maxSize ${maxSize}: expected a positive integer number of bytes, or Infinity`,
      );
      return true;
    });
  }
  assert.equal(origin.requests.length, 0);
  await download(origin.url, opts(out, { maxSize: Number.POSITIVE_INFINITY })).done;
  assert.deepEqual(await readFile(out), body);
});
