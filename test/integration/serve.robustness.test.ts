import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../../src/server/server.js';
import { bytes } from '../helpers/bytes.js';
import { startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const BIG = 20 * 1024 * 1024;

/** Starts a GET, reads `readBytes` of the body, then destroys the socket. */
function abortAfter(
  url: string,
  path: string,
  readBytes: number,
  headers: Record<string, string> = {},
) {
  return new Promise<void>((resolve) => {
    const req = request(`${url}${path}`, { headers, agent: false }, (res) => {
      let seen = 0;
      res.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen >= readBytes) req.destroy();
      });
      res.on('close', () => resolve());
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.end();
  });
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

test('serve survives clients that disconnect mid-body and leaks no file descriptors', async (t) => {
  const tree = await makeTree({ 'big.bin': bytes(BIG), 'small.txt': 'hello' });
  t.after(tree.cleanup);
  const { child, url } = await startServeCli(tree.dir, ['--quiet']);
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid ?? 0;
  await rawGet(url, '/small.txt'); // warm up: lazy fds (epoll, etc.) exist before counting
  const before = fdCount(pid);
  for (let round = 0; round < 5; round++) {
    await Promise.all([
      abortAfter(url, '/big.bin', 64 * 1024),
      abortAfter(url, '/big.bin', 1, { Range: 'bytes=1000-' }),
      abortAfter(url, '/big.bin', 100, { Range: 'bytes=0-10,5000000-9000000' }),
      abortAfter(url, '/big.bin', 1024 * 1024),
    ]);
  }
  // Let the server notice the closed sockets. It may keep one cached descriptor for big.bin (the
  // open-file cache), never one per aborted response.
  await waitFor(
    `fds back to ${before} + 1 (20 aborted responses)`,
    () => fdCount(pid) <= before + 1,
  );
  const res = await rawGet(url, '/small.txt');
  assert.equal(res.body.toString(), 'hello');
});

test('serve cuts the connection when a file shrinks mid-response, and keeps serving', async (t) => {
  const tree = await makeTree({ 'big.bin': bytes(BIG) });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const received = await new Promise<{ length: number; declared: number; complete: boolean }>(
    (resolve) => {
      const req = request(`${server.url}/big.bin`, { agent: false }, (res) => {
        let length = 0;
        let truncated = false;
        res.on('data', (c: Buffer) => {
          length += c.length;
          if (!truncated) {
            truncated = true;
            res.pause();
            // Shrink the file while the response is under way, then read on.
            truncate(join(tree.dir, 'big.bin'), 1024).then(
              () => res.resume(),
              () => res.resume(),
            );
          }
        });
        const finish = () =>
          resolve({
            length,
            declared: Number(res.headers['content-length']),
            complete: res.complete,
          });
        res.on('end', finish);
        res.on('error', finish);
        res.on('close', finish);
      });
      req.on('error', () => {});
      req.end();
    },
  );
  assert.equal(received.declared, BIG);
  assert.ok(received.length < BIG, `got ${received.length}`);
  assert.equal(received.complete, false);
  const again = await rawGet(server.url, '/big.bin');
  assert.equal(again.status, 200);
  assert.equal(again.headers['content-length'], '1024');
});

test('serve never sends a stale length or ETag after a file is edited in place', async (t) => {
  const tree = await makeTree({ 'edit.txt': 'one' });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  const etags = new Set<string>();
  for (let i = 1; i <= 20; i++) {
    const text = 'x'.repeat(i * 3);
    await writeFile(join(tree.dir, 'edit.txt'), text);
    const res = await rawGet(server.url, '/edit.txt');
    assert.equal(res.headers['content-length'], String(text.length));
    assert.equal(res.body.toString(), text);
    etags.add(res.headers.etag ?? '');
  }
  assert.equal(etags.size, 20);
});

test('serve closes a connection that never finishes its headers', async (t) => {
  const tree = await makeTree({ 'a.txt': 'a' });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir, headersTimeout: 500, requestTimeout: 1000 });
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
  const closed = once(socket, 'close');
  socket.on('data', () => {});
  socket.on('error', () => {});
  const timer = new AbortController();
  const outcome = await Promise.race([
    closed.then(() => 'closed'),
    sleep(15_000, 'still open', { signal: timer.signal }).catch(() => 'aborted'),
  ]);
  timer.abort();
  socket.destroy();
  assert.equal(outcome, 'closed');
});

test('close() finishes a slow in-flight response, then drops idle keep-alive connections', async (t) => {
  const size = 8 * 1024 * 1024;
  const tree = await makeTree({ 'big.bin': bytes(size), 'a.txt': 'a' });
  t.after(tree.cleanup);
  const running = await startServer({
    root: tree.dir,
    host: '127.0.0.1',
    port: 0,
    closeGrace: 60_000,
  });
  t.after(() => running.closeAllConnections());
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  // An idle keep-alive connection: one finished request.
  await new Promise<void>((resolve) => {
    request(`${running.url}/a.txt`, { agent }, (res) => res.resume().on('end', resolve)).end();
  });
  let closed = false;
  const body = await new Promise<number>((resolve, reject) => {
    request(`${running.url}/big.bin`, { agent: false }, (res) => {
      let length = 0;
      let first = true;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (first) {
          first = false;
          running.close().then(() => {
            closed = true;
          }, reject);
          res.pause();
          setTimeout(() => res.resume(), 300);
        }
      });
      res.on('end', () => resolve(length));
      res.on('error', reject);
    }).end();
  });
  assert.equal(body, size);
  // Well before closeGrace: nothing but the idle connection was left, and it must not hold close().
  await waitFor('close() resolving', () => closed, { timeoutMs: 5_000 });
});

test('serve picks up a file replaced by rename, never the cached old descriptor', async (t) => {
  const tree = await makeTree({ 'swap.txt': 'old version' });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  for (let i = 0; i < 10; i++) {
    const text = `version ${i} ${'y'.repeat(i)}`;
    await writeFile(join(tree.dir, 'next.tmp'), text);
    await rename(join(tree.dir, 'next.tmp'), join(tree.dir, 'swap.txt'));
    const res = await rawGet(server.url, '/swap.txt');
    assert.equal(res.body.toString(), text);
    const range = await rawGet(server.url, '/swap.txt', { Range: 'bytes=0-6' });
    assert.equal(range.body.toString(), text.slice(0, 7));
  }
  await unlink(join(tree.dir, 'swap.txt'));
  assert.equal((await rawGet(server.url, '/swap.txt')).status, 404);
});

test('serve under concurrent load never sends a stale length or ETag after an in-place edit', async (t) => {
  const tree = await makeTree({ 'hot.txt': 'v' });
  t.after(tree.cleanup);
  const server = await listen(t, { root: tree.dir });
  let writing = true;
  let hammered = 0;
  // Background readers keep the open-file cache hot and check every answer is self-consistent.
  const hammer = async () => {
    while (writing) {
      const res = await rawGet(server.url, '/hot.txt');
      hammered++;
      if (res.status === 503) continue; // the file shrank between stat and read: told to retry
      assert.equal(res.status, 200);
      assert.equal(res.body.length, Number(res.headers['content-length']));
    }
  };
  const readers = [hammer(), hammer(), hammer()];
  const seen = new Set<string>();
  try {
    for (let i = 1; i <= 40; i++) {
      const text = `${i}:${'z'.repeat(i * 37)}`;
      await writeFile(join(tree.dir, 'hot.txt'), text); // truncates and rewrites the same inode
      const res = await rawGet(server.url, '/hot.txt');
      assert.equal(res.headers['content-length'], String(text.length), `version ${i}`);
      assert.equal(res.body.toString(), text);
      assert.ok(!seen.has(res.headers.etag ?? ''), `a fresh ETag for version ${i}`);
      seen.add(res.headers.etag ?? '');
    }
  } finally {
    writing = false;
    await Promise.all(readers);
  }
  assert.ok(hammered > 0);
});
