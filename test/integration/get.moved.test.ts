/**
 * Resuming from another URL of the same file (a re-signed link, a moved file): `ranged get`
 * continues a journal written for another URL when the new URL serves the same size and strong
 * ETag, says so, keeps every good byte (no --force needed) and records the new URL; another file
 * at the new URL is exit 8 as before (with --force: starting over).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJournal } from '../../src/core/journal.js';
import { finished, runCli, spawnCli } from '../helpers/get-cli.js';
import { fixture, type Origin, type OriginOptions, startOrigin } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
type Context = { after(fn: () => Promise<void>): void };

async function folder(t: Context): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-moved-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function origin(t: Context, body: Buffer, options: Partial<OriginOptions> = {}) {
  const started = await startOrigin(body, options);
  t.after(() => started.close());
  return started;
}

/** The URL a journal in `dir` records once it holds bytes: the durable one (`OUT.part.json`),
 * or with `live` the live one a kill -9 leaves (`OUT.part.live.json`). */
async function journalUrl(dir: string, live = false): Promise<string | undefined> {
  const name = live ? 'file.bin.part.live.json' : 'file.bin.part.json';
  try {
    const decoded = decodeJournal(await readFile(join(dir, name), 'utf8'));
    return decoded.kind === 'ok' && decoded.journal.done.length > 0
      ? decoded.journal.url
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `ranged get URL -o file.bin` on a throttled origin and kills it (-9) once a journal
 * holding bytes is on disk. */
async function killMidway(o: Origin, url: string, dir: string): Promise<void> {
  o.options.bytesPerSecond = 2 * MiB;
  const child = spawnCli(['get', url, '-o', 'file.bin', '-c', '2'], dir);
  const done = finished(child);
  await waitFor('a live journal holding bytes', () => journalUrl(dir, true));
  child.kill('SIGKILL');
  await done;
  o.options.bytesPerSecond = undefined;
}

test('ranged get resumes from a re-signed URL of the same file, says so, and records the new URL', async (t) => {
  const body = fixture(8 * MiB + 3);
  const o = await origin(t, body);
  const dir = await folder(t);
  await killMidway(o, o.url, dir);
  const first = o.requests.length;

  // A new link (a redirect to a fresh signed URL) to the same file; killed again after the move.
  o.options.bytesPerSecond = 2 * MiB;
  const moved = `${o.base}/signed`;
  const child = spawnCli(['get', moved, '-o', 'file.bin', '-c', '2'], dir);
  const run = finished(child);
  // Once the move is confirmed, the durable journal is saved for the new URL with every held byte.
  await waitFor('the journal records the new URL', async () => (await journalUrl(dir)) === moved);
  await waitFor(
    'new bytes in the live journal',
    async () => (await journalUrl(dir, true)) === moved,
  );
  child.kill('SIGKILL');
  const killed = await run;
  assert.match(killed.stderr, /Resuming from another URL: same size and ETag "v1-8388611"/);
  o.options.bytesPerSecond = undefined;

  const r = await runCli(['get', moved, '-o', 'file.bin'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.doesNotMatch(r.stderr, /another URL/, 'the journal is now for this URL');
  // Every resumed range asked with If-Range, and none from the start: the good bytes were kept.
  const resumed = o.requests.slice(first).filter((q) => q.url !== '/signed');
  assert.ok(resumed.length > 0);
  for (const q of resumed) {
    assert.equal(q.ifRange, '"v1-8388611"', `${q.url} ${q.range}`);
    assert.notEqual(q.range, 'bytes=0-', 'nothing fetched again from the start');
  }
});

test('ranged get refuses a journal for another URL that serves another file: exit 8; --force starts over', async (t) => {
  const body = fixture(3 * MiB);
  const a = await origin(t, body);
  const dir = await folder(t);
  await killMidway(a, a.url, dir);
  const other = fixture(3 * MiB, 1);
  const b = await origin(t, body);
  b.replace(other); // same size, another ETag ("v2-…")
  const r = await runCli(['get', b.url, '-o', 'file.bin'], dir);
  assert.equal(r.code, 8, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0] ?? '',
    /^ranged: Cannot resume "file\.bin": journal ".*file\.bin\.part\.json" is for "http:\/\/127\.0\.0\.1:\d+\/file\.bin", and "http:\/\/127\.0\.0\.1:\d+\/file\.bin" is not the same file \(its ETag is "v2-3145728", the journal's "v1-3145728"\) \(delete it, or use --force to start over\)$/,
  );
  assert.equal(await journalUrl(dir, true), a.url, 'the journals are kept');

  const forced = await runCli(['get', b.url, '-o', 'file.bin', '--force'], dir);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), other);
  assert.match(forced.stderr, /is not the same file .*: starting over/);
});

test('ranged get refuses a journal for another URL whose file has another size: exit 8', async (t) => {
  const a = await origin(t, fixture(3 * MiB));
  const dir = await folder(t);
  await killMidway(a, a.url, dir);
  const b = await origin(t, fixture(3 * MiB + 1));
  const r = await runCli(['get', b.url, '-o', 'file.bin'], dir);
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /its size is 3145729, the journal's 3145728 bytes/);
});
