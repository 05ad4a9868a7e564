/**
 * `ranged get` on a real pseudo-terminal (util-linux `script`): the progress bar, and the p/r keys
 * checked against the origin (connections closed and no bytes while paused) and the journal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJournal } from '../../src/core/journal.js';
import { CLI, runCli } from '../helpers/get-cli.js';
import { fixture, startOrigin } from '../helpers/origin.js';
import { quietFor, waitFor } from '../helpers/wait.js';

const SCRIPT = '/usr/bin/script';
const MiB = 1024 * 1024;
const skip = existsSync(SCRIPT) ? false : `${SCRIPT} is absent (apt-get install bsdutils)`;

function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

test('ranged get on a terminal draws a bar, pauses on p and resumes on r', { skip }, async (t) => {
  const body = fixture(8 * MiB);
  const origin = await startOrigin(body, { bytesPerSecond: 2 * MiB });
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-tty-'));
  const command = [process.execPath, CLI, 'get', origin.url, '-c', '2'].map(quote).join(' ');
  // -q quiet, -f flush, -e exit with the child's code, -c the command; the log goes nowhere.
  const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, COLUMNS: '120', LINES: '40' },
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  const exited = once(child, 'exit');

  await waitFor('1 MiB served', () => origin.served >= MiB);
  await waitFor('a progress bar', () => /\[#*\.*\]\s+\d+%.*MiB\/s\s+ETA \d+:\d\d/.test(screen));
  child.stdin.write('p');
  await waitFor('the pause notice', () =>
    /Paused: connections closed, progress saved/.test(screen),
  );
  await waitFor('every connection closed', () => origin.open === 0);
  const journal = decodeJournal(await readFile(join(dir, 'file.bin.part.json'), 'utf8'));
  assert.equal(journal.kind, 'ok');
  const held = journal.kind === 'ok' ? journal.journal.done : [];
  assert.ok(held.length > 0, 'the journal holds bytes');
  const part = await readFile(join(dir, 'file.bin.part'));
  for (const s of held)
    assert.deepEqual(part.subarray(s.start, s.end), body.subarray(s.start, s.end));
  const served = origin.served;
  const requests = origin.requests.length;
  await quietFor(300);
  assert.equal(origin.served, served, 'no bytes while paused');
  assert.equal(origin.requests.length, requests, 'no request while paused');
  assert.match(screen, /paused \(r or Enter resumes\)/);

  origin.options.bytesPerSecond = undefined;
  child.stdin.write('r');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, screen);
  assert.match(screen, /Resuming/);
  assert.match(screen, /Saved "file\.bin" \(8\.0 MiB\)/);
  // The last frame shows the finished size, not `0 B … 0 connections`.
  assert.match(screen, /100%\s+8\.0 MiB \/ 8\.0 MiB\s+done\s*\r?\n/);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  // The resumed requests carried If-Range and asked only for what was missing. (Bytes the origin
  // wrote are no bound: a connection closed at a stolen segment's new end leaves up to a few MiB
  // in loopback socket buffers, counted as served but never read.)
  for (const r of origin.requests.slice(requests)) {
    assert.equal(r.ifRange, '"v1-8388608"');
    const start = Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]);
    assert.ok(
      held.every((s) => start < s.start || start >= s.end),
      `${r.range} starts inside held bytes ${JSON.stringify(held)}`,
    );
  }
});

test('ranged get off a terminal prints no 0% line before a byte arrived', async (t) => {
  const body = fixture(2 * MiB);
  const origin = await startOrigin(body, { bytesPerSecond: 2 * MiB });
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-notty-'));
  t.after(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  const r = await runCli(['get', origin.url], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.doesNotMatch(r.stderr, /(^|\n)0%\s+0 B/);
  assert.match(r.stderr, /(^|\n)\d+%\s+\d/, 'a progress line once bytes arrived');
  assert.match(r.stderr, /Saved "file\.bin" \(2\.0 MiB\)\n$/);
});
