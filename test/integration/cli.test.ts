import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { runCli, startServeCli } from '../helpers/cli.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';
import { quietFor, waitFor } from '../helpers/wait.js';

/** One line, `ranged: ...`, and no stack trace. */
function assertCleanError(stderr: string) {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] ?? '', /^ranged: \S/);
  assert.doesNotMatch(stderr, /\n\s+at |Error:/);
}

test('ranged serve DIR --port 0 prints its URL, serves the folder and logs each request', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello' });
  t.after(tree.cleanup);
  const { child, url, stderr } = await startServeCli(tree.dir);
  t.after(() => child.kill('SIGKILL'));
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await rawGet(url, '/a.txt', { Range: 'bytes=1-3' });
  assert.equal(res.status, 206);
  assert.equal(res.body.toString(), 'ell');
  await waitFor('the access log line', () => stderr().includes('GET /a.txt'));
  assert.match(stderr(), /GET \/a\.txt 206 \d+ \d+ms/);
});

test('ranged serve --quiet logs nothing', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello' });
  t.after(tree.cleanup);
  const { child, url, stderr } = await startServeCli(tree.dir, ['--quiet']);
  t.after(() => child.kill('SIGKILL'));
  assert.equal((await rawGet(url, '/a.txt')).status, 200);
  await quietFor(100);
  assert.equal(stderr(), '');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`ranged serve on ${signal} finishes the in-flight response and exits 0`, async (t) => {
    const size = 8 * 1024 * 1024;
    const tree = await makeTree({ 'big.bin': bytes(size) });
    t.after(tree.cleanup);
    const { child, url } = await startServeCli(tree.dir, ['--quiet']);
    t.after(() => child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = request(`${url}/big.bin`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let signalled = false;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (!signalled) {
            signalled = true;
            child.kill(signal);
            res.pause();
            setTimeout(() => res.resume(), 200); // read on only after the signal has landed
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(body.length, size);
    assert.ok(body.equals(bytes(size)));
    const [code] = await exited;
    assert.equal(code, 0);
  });
}

test('ranged serve refuses a missing folder, a file, and bad ports with exit 2 and one line', async (t) => {
  const tree = await makeTree({ 'file.txt': 'x' });
  t.after(tree.cleanup);
  const cases = [
    ['serve', join(tree.dir, 'missing')],
    ['serve', join(tree.dir, 'file.txt')],
    ['serve', tree.dir, '--port', 'abc'],
    ['serve', tree.dir, '--port', '70000'],
    ['serve', tree.dir, '--port', '-1'],
    ['serve', tree.dir, '--bogus'],
    ['serve', tree.dir, 'second-dir'],
    ['frobnicate'],
  ];
  for (const args of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assertCleanError(result.stderr);
  }
});

test('ranged serve on a port in use exits 2 with a clear line', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const port = (blocker.address() as AddressInfo).port;
  const result = await runCli(['serve', '.', '--port', String(port)]);
  assert.equal(result.code, 2);
  assertCleanError(result.stderr);
  assert.match(result.stderr, /address already in use/);
});

test('ranged --help, serve --help and --version explain themselves and exit 0', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /serve \[DIR\]/);
  assert.match(help.stdout, /get URL/);
  const serve = await runCli(['serve', '--help']);
  assert.equal(serve.code, 0);
  assert.match(serve.stdout, /--port N/);
  const version = await runCli(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('ranged serve --workers 2 prints one URL, serves from both workers and stops on SIGTERM', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello' });
  t.after(tree.cleanup);
  const { child, url } = await startServeCli(tree.dir, ['--quiet', '--workers', '2']);
  t.after(() => child.kill('SIGKILL'));
  const exited = once(child, 'exit');
  for (let i = 0; i < 20; i++) {
    const res = await rawGet(url, '/a.txt', { Range: 'bytes=0-1' });
    assert.equal(res.body.toString(), 'he');
  }
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});

test('ranged serve --workers 4 stops on a SIGTERM that comes while workers are still starting', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello' });
  t.after(tree.cleanup);
  // The URL is printed when the first worker listens; the others are usually still loading, and a
  // shutdown sent before they listen for it must not be lost (the primary would wait forever).
  for (let round = 0; round < 3; round++) {
    const { child } = await startServeCli(tree.dir, ['--quiet', '--workers', '4']);
    t.after(() => child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const outcome = await Promise.race([
      exited.then(([code]) => `exit ${code}`),
      quietFor(12_000).then(() => 'still running after 12 s'),
    ]);
    assert.equal(outcome, 'exit 0');
  }
});

test('ranged serve --workers 2 on a port in use exits 2 with one line', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const port = (blocker.address() as AddressInfo).port;
  const result = await runCli(['serve', '.', '--port', String(port), '--workers', '2']);
  assert.equal(result.code, 2);
  assertCleanError(result.stderr);
});
