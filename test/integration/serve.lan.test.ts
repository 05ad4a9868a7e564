/**
 * `ranged serve` on every interface: the primary URL line first, then one URL per address other
 * machines can open (each really answers), the warning on stderr, and a QR code only on a terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { lanUrls } from '../../src/core/lan-urls.js';
import { CLI } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';
import { quietFor, waitFor } from '../helpers/wait.js';

const SCRIPT = '/usr/bin/script';
/** The half-block characters a terminal QR code is drawn with. */
const QR = /[▀▄█]{8}/;
const hasLan = lanUrls(networkInterfaces(), { host: '0.0.0.0', port: 1 }).length > 0;

function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

test('ranged serve -H 0.0.0.0: the first line has http://0.0.0.0:PORT, then every LAN URL, and no QR off a terminal', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello lan' });
  t.after(tree.cleanup);
  const child = spawn(process.execPath, [CLI, 'serve', tree.dir, '-H', '0.0.0.0', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const first = await waitFor('the URL line', () => /^.*http:\/\/0\.0\.0\.0:(\d+)\/.*\n/.exec(out));
  const port = Number(first[1]);
  const expected = lanUrls(networkInterfaces(), { host: '0.0.0.0', port });
  await waitFor('every LAN URL', () => expected.every((url) => out.includes(url)));
  const lines = out.trim().split('\n');
  assert.match(lines[0] ?? '', /http:\/\/0\.0\.0\.0:\d+\//, 'the primary line comes first');
  assert.deepEqual(
    lines.slice(1),
    expected.map((url) => `ranged: on the network: ${url}`),
  );
  for (const url of expected) {
    const res = await fetch(`${url}a.txt`);
    assert.equal(await res.text(), 'hello lan', url);
  }
  await quietFor(200);
  assert.doesNotMatch(out, QR, 'no QR code when stdout is not a terminal');
  assert.match(err, /warning: listening on 0\.0\.0\.0: .* is now reachable from other machines/);
  child.kill('SIGTERM');
  await once(child, 'exit');
});

test('ranged serve -H 0.0.0.0 on a terminal prints a QR code of the first LAN URL', {
  skip: !existsSync(SCRIPT)
    ? `${SCRIPT} is absent (apt-get install bsdutils)`
    : hasLan
      ? false
      : 'this machine has no non-loopback address',
}, async (t) => {
  const tree = await makeTree({ 'a.txt': 'x' });
  t.after(tree.cleanup);
  const command = [process.execPath, CLI, 'serve', tree.dir, '-H', '0.0.0.0', '-p', '0']
    .map(quote)
    .join(' ');
  const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  await waitFor('a QR code on the terminal', () => QR.test(screen));
  const lines = screen.split(/\r?\n/);
  const firstUrl = lines.findIndex((line) => line.includes('on the network:'));
  const qr = lines.findIndex((line) => QR.test(line));
  // stderr (the warning) shares the terminal; on stdout the primary line comes first.
  const primary = lines.findIndex((line) => /http:\/\/0\.0\.0\.0:\d+/.test(line));
  assert.ok(primary >= 0 && firstUrl > primary && qr > firstUrl, screen);
  // A QR code is square: as many half-block rows as the width / 2 (two modules a row).
  const rows: string[] = [];
  for (let i = qr; /^[ ▀▄█]+$/.test(lines[i] ?? ''); i++) rows.push(lines[i] ?? '');
  const width = [...(rows[0] ?? '')].length;
  assert.ok(Math.abs(rows.length - Math.ceil(width / 2)) <= 1, `${rows.length} rows of ${width}`);
  child.stdin.write('\x03'); // Ctrl-C on the terminal
  await once(child, 'exit');
});
