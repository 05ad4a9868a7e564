/**
 * `ranged get` as a child process: exit codes, messages, SIGINT and kill -9 followed by a rerun.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootId } from '../../src/boot-id.js';
import { partPaths } from '../../src/client/download.js';
import { decodeJournal, encodeJournal, type Journal, liveVerdict } from '../../src/core/journal.js';
import { spawnDownload } from '../helpers/download-child.js';
import { finished, runCli, spawnCli } from '../helpers/get-cli.js';
import { fixture, type Origin, type OriginOptions, startOrigin } from '../helpers/origin.js';
import { smallDisk } from '../helpers/small-disk.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;

async function setup(
  t: { after(fn: () => Promise<void>): void },
  body: Buffer,
  options: Partial<OriginOptions> = {},
): Promise<{ origin: Origin; dir: string }> {
  const origin = await startOrigin(body, options);
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-cli-'));
  t.after(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { origin, dir };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** One line on stderr, `ranged: ...`, and no stack trace. */
function assertOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  assert.match(last, /^ranged: /);
  assert.match(last, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

/** Live journals need a boot id (Linux); elsewhere every save syncs and these tests do not apply. */
const noBootId = bootId() === undefined ? 'no boot id on this system' : false;

test('ranged get saves the file under the name from the URL', async (t) => {
  const body = fixture(5 * MiB + 1);
  const { origin, dir } = await setup(t, body);
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.match(r.stderr, /Saved "file\.bin" \(5\.0 MiB\)/);
});

test('ranged get --quiet prints nothing and -o picks the name', async (t) => {
  const body = fixture(100_000);
  const { origin, dir } = await setup(t, body);
  const r = await runCli(['get', origin.url, '-o', 'named.dat', '--quiet', '-c', '2'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(await readFile(join(dir, 'named.dat')), body);
});

test('ranged get -c 16 prints no Node warning (e.g. MaxListenersExceededWarning)', async (t) => {
  const body = fixture(8 * MiB);
  const { origin, dir } = await setup(t, body);
  const r = await runCli(['get', origin.url, '-c', '16'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Warning|\(node:\d+\)/);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get --help prints the usage and exits 0', async (t) => {
  const { dir } = await setup(t, fixture(1));
  const r = await runCli(['get', '--help'], dir);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: ranged get URL/);
  assert.match(r.stdout, /--limit-rate/);
});

const usageCases: [string, string[], RegExp][] = [
  ['no URL', ['get'], /expected one URL/],
  ['a bad URL', ['get', 'not a url'], /not an http or https URL/],
  ['an ftp URL', ['get', 'ftp://example.com/x'], /not an http or https URL/],
  ['a bad connection count', ['get', 'http://127.0.0.1:9/x', '-c', '0'], /--connections/],
  ['a bad rate', ['get', 'http://127.0.0.1:9/x', '--limit-rate', 'fast'], /--limit-rate/],
  ['a bad checksum', ['get', 'http://127.0.0.1:9/x', '--checksum', 'sha256:12'], /64 hex digits/],
];
for (const [name, args, pattern] of usageCases) {
  test(`ranged get exits 2 on ${name}`, async (t) => {
    const { dir } = await setup(t, fixture(1));
    const r = await runCli(args, dir);
    assert.equal(r.code, 2, r.stderr);
    assertOneErrorLine(r.stderr, pattern);
  });
}

test('ranged get exits 3 on a 404', async (t) => {
  const { origin, dir } = await setup(t, fixture(10));
  const r = await runCli(['get', `${origin.base}/nothing-here`], dir);
  assert.equal(r.code, 3);
  assertOneErrorLine(r.stderr, /answered 404/);
});

test('ranged get exits 4 when the connection is refused', async (t) => {
  const { origin, dir } = await setup(t, fixture(10));
  const url = origin.url;
  await origin.close();
  const r = await runCli(['get', url], dir);
  assert.equal(r.code, 4);
  assertOneErrorLine(r.stderr, /connection refused/);
});

test('ranged get exits 9 rather than replace a file, unless --force', async (t) => {
  const body = fixture(1000);
  const { origin, dir } = await setup(t, body);
  await writeFile(join(dir, 'file.bin'), 'precious');
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 9);
  assertOneErrorLine(r.stderr, /exists \(use --force/);
  assert.equal(await readFile(join(dir, 'file.bin'), 'utf8'), 'precious');
  const forced = await runCli(['get', origin.url, '--force'], dir);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get exits 7 on a checksum mismatch and leaves no OUT', async (t) => {
  const body = fixture(300_000);
  const { origin, dir } = await setup(t, body);
  const wrong = createHash('sha256').update('other').digest('hex');
  const r = await runCli(['get', origin.url, '--checksum', `sha256:${wrong}`], dir);
  assert.equal(r.code, 7);
  assertOneErrorLine(r.stderr, /sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}/);
  assert.equal(await exists(join(dir, 'file.bin')), false);
  assert.equal(await exists(join(dir, 'file.bin.part')), false);
  const right = createHash('sha256').update(body).digest('hex');
  const ok = await runCli(['get', origin.url, '--checksum', `sha256:${right}`], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /sha256 verified/);
});

test('ranged get exits 8 on a garbage journal', async (t) => {
  const { origin, dir } = await setup(t, fixture(1000));
  await writeFile(join(dir, 'file.bin.part.json'), '{"format":"ranged-journal","version":7}');
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 8);
  assertOneErrorLine(r.stderr, /version 7 is newer.*--force/);
});

test('ranged get exits 5 when the server lies in Content-Range', async (t) => {
  const { origin, dir } = await setup(t, fixture(6 * MiB), { lieContentRange: true });
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 5);
  assertOneErrorLine(r.stderr, /the 206 has/);
});

test('ranged get stops on SIGINT with exit 130 and resumes on the next run', async (t) => {
  const body = fixture(6 * MiB);
  const { origin, dir } = await setup(t, body, { bytesPerSecond: 2 * MiB });
  const child = spawnCli(['get', origin.url, '-c', '2'], dir);
  const result = finished(child);
  await waitFor('2 MiB served', () => origin.served >= 2 * MiB);
  child.kill('SIGINT');
  const r = await result;
  assert.equal(r.code, 130);
  assertOneErrorLine(r.stderr, /interrupted.*run the same command again to resume/);
  assert.equal(await exists(join(dir, 'file.bin')), false);
  const journal = decodeJournal(await readFile(join(dir, 'file.bin.part.json'), 'utf8'));
  assert.equal(journal.kind, 'ok');
  // Stopped on purpose: the person may turn the machine off next, so the save was synced.
  assert.ok(journal.kind === 'ok' && journal.journal.done.length > 0);
  origin.options.bytesPerSecond = undefined;
  const again = await runCli(['get', origin.url, '-c', '2'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get survives kill -9 and re-fetches at most about 1 MiB per connection', {
  skip: noBootId,
}, async (t) => {
  const body = fixture(12 * MiB);
  const connections = 2;
  // 1 MiB/s per connection: the journal (saved every second) trails by about 1 MiB.
  const { origin, dir } = await setup(t, body, { bytesPerSecond: MiB });
  const child = spawnCli(['get', origin.url, '-c', String(connections)], dir);
  const result = finished(child);
  await waitFor('3 MiB served', () => origin.served >= 3 * MiB);
  child.kill('SIGKILL');
  const r = await result;
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(await exists(join(dir, 'file.bin')), false);
  const { part, journal, live } = partPaths(join(dir, 'file.bin'));
  const durable = decodeJournal(await readFile(journal, 'utf8'));
  const written = decodeJournal(await readFile(live, 'utf8'));
  if (durable.kind !== 'ok' || written.kind !== 'ok') assert.fail('both journals are readable');
  // The bytes written since the last synced save are claimed by the live journal of this boot.
  const verdict = liveVerdict(durable.journal, written.journal, bootId());
  assert.equal(verdict.kind, 'trusted');
  const done = verdict.kind === 'trusted' ? verdict.done : [];
  // Crash consistency: every byte the journal claims is on disk and correct.
  const data = await readFile(part);
  for (const s of done)
    assert.deepEqual(data.subarray(s.start, s.end), body.subarray(s.start, s.end));
  const held = done.reduce((n, s) => n + s.end - s.start, 0);
  assert.ok(held > 0, 'the journal was saved before the kill');

  await waitFor('the origin seeing every connection closed', () => origin.open === 0);
  const servedBefore = origin.served;
  origin.options.bytesPerSecond = 16 * MiB; // keeps in-flight overshoot small on loopback
  const again = await runCli(['get', origin.url, '-c', String(connections)], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  const servedAfter = origin.served - servedBefore;
  assert.ok(servedAfter >= body.length - held);
  const refetched = servedBefore + servedAfter - body.length;
  assert.ok(
    refetched <= connections * MiB + 512 * 1024,
    `re-fetched ${refetched} bytes over ${connections} connections`,
  );
});

/**
 * Downloads `body` with the library in a child process (synced saves every 700 ms, live ones
 * every 128 KiB per connection) from a 1 MiB/s origin, and kills it with SIGKILL after 3 MiB,
 * once the journals hold something.
 */
async function killMidway(
  t: { after(fn: () => Promise<void>): void },
  body: Buffer,
  options: Record<string, unknown>,
): Promise<{ origin: Origin; dir: string; durable: Journal; live: Journal | undefined }> {
  const { origin, dir } = await setup(t, body, { bytesPerSecond: MiB });
  const output = join(dir, 'file.bin');
  const child = spawnDownload(origin.url, {
    output,
    connections: 2,
    syncInterval: 700,
    saveBytes: 128 * 1024,
    ...options,
  });
  const result = finished(child);
  const paths = partPaths(output);
  await waitFor('3 MiB served', () => origin.served >= 3 * MiB);
  // Kill once the durable journal claims bytes (and the live one exists, without sync): on a busy
  // disk an fsync can take a second.
  await waitFor('journals holding bytes', () => journalsReady(paths, options.sync === true));
  child.kill('SIGKILL');
  assert.equal((await result).signal, 'SIGKILL');
  const durable = decodeJournal(await readFile(paths.journal, 'utf8'));
  if (durable.kind !== 'ok') assert.fail(`durable journal not readable: ${durable.kind}`);
  const text = await readFile(paths.live, 'utf8').catch(() => undefined);
  const live = text === undefined ? undefined : decodeJournal(text);
  if (live !== undefined && live.kind !== 'ok') assert.fail('live journal not readable');
  await waitFor('the origin seeing every connection closed', () => origin.open === 0);
  origin.options.bytesPerSecond = 16 * MiB; // keeps in-flight overshoot small on loopback
  return { origin, dir, durable: durable.journal, live: live?.journal };
}

async function journalsReady(paths: { journal: string; live: string }, sync: boolean) {
  const durable = decodeJournal(await readFile(paths.journal, 'utf8').catch(() => ''));
  if (durable.kind !== 'ok' || durable.journal.done.length === 0) return false;
  return sync || (await exists(paths.live));
}

const spanTotal = (spans: { start: number; end: number }[]) =>
  spans.reduce((n, s) => n + s.end - s.start, 0);

test('after a crash of the machine (a new boot id) only the synced bytes are trusted', {
  skip: noBootId,
}, async (t) => {
  const body = fixture(16 * MiB);
  const { origin, dir, durable, live } = await killMidway(t, body, {});
  assert.ok(live !== undefined, 'unsynced bytes are claimed by the live journal');
  assert.equal(live.boot, bootId());
  const synced = spanTotal(durable.done);
  assert.ok(synced > 0 && synced < body.length, 'a synced save happened (every 700 ms)');
  const data = await readFile(join(dir, 'file.bin.part'));
  for (const s of durable.done) {
    assert.ok(data.subarray(s.start, s.end).equals(body.subarray(s.start, s.end)));
  }
  // Simulate the reboot: a live journal of a boot that is over, claiming every byte. Trusting it
  // would save the part file's holes as data.
  const stale = { ...live, boot: 'an-old-boot', done: [{ start: 0, end: body.length }] };
  await writeFile(join(dir, 'file.bin.part.live.json'), encodeJournal(stale));
  const servedBefore = origin.served;
  const again = await runCli(['get', origin.url, '-c', '2'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /The machine restarted since the last save: \d+ bytes that were not synced to disk are fetched again/,
  );
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  const refetch = origin.served - servedBefore;
  assert.ok(refetch >= body.length - synced, 'the unsynced bytes are fetched again');
  assert.ok(refetch <= body.length - synced + 2 * MiB, `the synced bytes are kept (${refetch})`);
});

test('with sync every save is synced and there is no live journal; a kill -9 still resumes', async (t) => {
  const body = fixture(16 * MiB);
  const { origin, dir, durable, live } = await killMidway(t, body, { sync: true });
  assert.equal(live, undefined, 'with sync no live journal is written');
  assert.ok(spanTotal(durable.done) > 0);
  const again = await runCli(['get', origin.url, '-c', '2', '--sync'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.equal(await exists(join(dir, 'file.bin.part.live.json')), false);
  assert.equal(await exists(join(dir, 'file.bin.part.json')), false);
});

test('a live journal of another download is ignored, with a notice', {
  skip: noBootId,
}, async (t) => {
  const body = fixture(16 * MiB);
  const { origin, dir, live } = await killMidway(t, body, {});
  assert.ok(live !== undefined);
  const path = join(dir, 'file.bin.part.live.json');
  await writeFile(
    path,
    (await readFile(path, 'utf8')).replace('"size":16777216', '"size":20000000'),
  );
  const again = await runCli(['get', origin.url, '-c', '2'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /Ignoring ".*file\.bin\.part\.live\.json": it belongs to another download/,
  );
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('an empty journal (what a crash can leave) means start over, with a notice', async (t) => {
  const body = fixture(100_000);
  const { origin, dir } = await setup(t, body);
  await writeFile(join(dir, 'file.bin.part.json'), Buffer.alloc(300));
  await writeFile(join(dir, 'file.bin.part'), Buffer.alloc(100_000, 7));
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /is empty \(left by a crash of the machine\?\): starting over/);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get on a disk that fills up exits 9 with one clear line, and resumes once there is room', async (t) => {
  const body = fixture(8 * MiB);
  const { origin } = await setup(t, body);
  const dir = smallDisk(t, '3m');
  if (dir === undefined) return t.skip('cannot mount a tmpfs here (not root)');
  const r = await runCli(['get', origin.url, '-c', '2'], dir);
  assert.equal(r.code, 9, r.stderr);
  assertOneErrorLine(
    r.stderr,
    /Cannot write ".*file\.bin\.part(\.json|\.live\.json)?": no space left on device/,
  );
  assert.equal(await exists(join(dir, 'file.bin')), false);
  assert.equal(await exists(join(dir, 'file.bin.part.json.tmp')), false, 'no half-written journal');
  execFileSync('mount', ['-o', 'remount,size=32m', dir], { stdio: 'ignore' });
  const again = await runCli(['get', origin.url, '-c', '2'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get restarts when the remote file changed and says so', async (t) => {
  const body = fixture(6 * MiB);
  const next = fixture(6 * MiB, 3);
  const { origin, dir } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  const child = spawnCli(['get', origin.url], dir);
  const result = finished(child);
  await waitFor('3 MiB served', () => origin.served >= 3 * MiB);
  child.kill('SIGKILL');
  await result;
  origin.replace(next);
  origin.options.bytesPerSecond = undefined;
  const again = await runCli(['get', origin.url], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /Remote file changed \(ETag is "v2-6291456", expected "v1-6291456"\): starting over/,
  );
  assert.deepEqual(await readFile(join(dir, 'file.bin')), next);
});

test('ranged get says a resume restarts on a server without ranges', async (t) => {
  const body = fixture(100_000);
  const { origin, dir } = await setup(t, body, { ranges: false });
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /does not support ranges.*fetch again from the start/);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});
