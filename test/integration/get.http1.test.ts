/**
 * openHttp1() against a raw TCP server that writes exact bytes: framing (Content-Length, chunked,
 * until close), heads split across packets, 1xx responses, malformed input, stalls, and the
 * reused read buffer (a chunk is only valid while the sink holds it).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openHttp1 } from '../../src/client/transport/http1.js';
import { NetworkError } from '../../src/errors.js';
import { fixture } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';

type Script = (socket: net.Socket) => Promise<void>;

/** A server that answers every connection by running `script` on its socket. */
async function rawServer(
  t: { after(fn: () => Promise<void>): void },
  script: Script,
): Promise<{ url: URL; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // the client closes early on purpose in some tests
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (d) => {
      requests.push(d.toString('latin1'));
      script(socket).catch(() => socket.destroy());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/f?x=1`), requests };
}

/** Reads a whole body with an async sink (so the buffer is reused while writes are pending). */
async function readAll(
  url: URL,
  options: { stallTimeout?: number; bufferSize?: number } = {},
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = await openHttp1(url, {
    headers: { range: 'bytes=0-' },
    signal: new AbortController().signal,
    timeout: 2_000,
    ...(options.bufferSize === undefined ? {} : { bufferSize: options.bufferSize }),
  });
  const parts: Buffer[] = [];
  await res.body.read(
    async (chunk) => {
      parts.push(Buffer.from(chunk)); // copy: the chunk's memory is reused after this resolves
      await sleep(0);
      return true;
    },
    { stallTimeout: options.stallTimeout ?? 2_000 },
  );
  return { status: res.status, headers: res.headers, body: Buffer.concat(parts) };
}

test('openHttp1() sends GET with Host, Connection: close and the given fields', async (t) => {
  const { url, requests } = await rawServer(t, async (s) => {
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const r = await readAll(url);
  assert.equal(r.body.toString(), 'ok');
  assert.match(requests[0] ?? '', /^GET \/f\?x=1 HTTP\/1\.1\r\n/);
  assert.match(requests[0] ?? '', /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  assert.match(requests[0] ?? '', /\r\nConnection: close\r\n/);
  assert.match(requests[0] ?? '', /\r\nrange: bytes=0-\r\n\r\n$/);
});

test('openHttp1() reads a large Content-Length body through a small reused buffer', async (t) => {
  const body = fixture(3 * 1024 * 1024 + 17);
  const { url } = await rawServer(t, async (s) => {
    s.write(`HTTP/1.1 206 Partial Content\r\nContent-Length: ${body.length}\r\nETag: "a"\r\n`);
    s.write(`Content-Range: bytes 0-${body.length - 1}/${body.length}\r\n\r\n`);
    s.end(body);
  });
  const r = await readAll(url, { bufferSize: 16 * 1024 });
  assert.equal(r.status, 206);
  assert.equal(r.headers.etag, '"a"');
  assert.equal(r.headers['content-range'], `bytes 0-${body.length - 1}/${body.length}`);
  assert.deepEqual(r.body, body);
});

test('openHttp1() decodes a chunked body split at awkward places', async (t) => {
  const body = fixture(70_000);
  const wire = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    Buffer.from('a;ext=1\r\n'),
    body.subarray(0, 10),
    Buffer.from(`\r\n${(body.length - 10).toString(16).toUpperCase()}\r\n`),
    body.subarray(10),
    Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  ]);
  const { url } = await rawServer(t, async (s) => {
    for (let i = 0; i < wire.length; i += 7_001) {
      s.write(wire.subarray(i, i + 7_001));
      await sleep(1);
    }
    // No end(): a chunked body ends at the last chunk, not at the close.
  });
  const r = await readAll(url, { bufferSize: 4096 });
  assert.deepEqual(r.body, body);
});

test('openHttp1() skips a 100 Continue and reads a body delimited by the close', async (t) => {
  const { url } = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX-A: 1\r\nX-A: 2\r\n');
    await sleep(5);
    s.write('\r\nhello ');
    await sleep(5);
    s.end('world');
  });
  const r = await readAll(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-a'], '1, 2');
  assert.equal(r.body.toString(), 'hello world');
});

test('openHttp1() fails with a NetworkError when a Content-Length body is cut short', async (t) => {
  const { url } = await rawServer(t, async (s) => {
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
  });
  await assert.rejects(readAll(url), (e: unknown) => {
    assert.ok(e instanceof NetworkError);
    assert.match(e.message, /connection closed/);
    return true;
  });
});

const malformed: [string, string, RegExp][] = [
  ['a garbage status line', 'SSH-2.0-OpenSSH\r\n\r\n', /status line/],
  ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx', /Content-Length/],
  ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk/],
];
for (const [name, wire, pattern] of malformed) {
  test(`openHttp1() rejects ${name}`, async (t) => {
    const { url } = await rawServer(t, async (s) => {
      s.end(wire);
    });
    await assert.rejects(readAll(url), (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.match(e.message, pattern);
      return true;
    });
  });
}

test('openHttp1() fails a body that stalls', async (t) => {
  const { url } = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  });
  await assert.rejects(readAll(url, { stallTimeout: 100 }), /no data for 0\.1 s/);
});

test('openHttp1() does not call a slow write of the last bytes a stall', async (t) => {
  for (const framing of ['length', 'close'] as const) {
    const body = fixture(200_000, framing === 'length' ? 1 : 2);
    const { url } = await rawServer(t, async (s) => {
      const length = framing === 'length' ? `Content-Length: ${body.length}\r\n` : '';
      s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${length}\r\n`), body]));
    });
    const res = await openHttp1(url, {
      headers: {},
      signal: new AbortController().signal,
      timeout: 2_000,
      bufferSize: 64 * 1024,
    });
    const parts: Buffer[] = [];
    // Every write takes longer than the stall timeout; the network is done long before.
    await res.body.read(
      async (chunk) => {
        parts.push(Buffer.from(chunk));
        await sleep(250);
        return true;
      },
      { stallTimeout: 150 },
    );
    assert.deepEqual(Buffer.concat(parts), body, framing);
  }
});

test('openHttp1() keeps chunks apart with buffers from any allocator (two read buffers)', async (t) => {
  const body = fixture(300_000, 3);
  const { url } = await rawServer(t, async (s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let at = 0; at < body.length; at += 1000) {
      s.write(body.subarray(at, at + 1000));
      await sleep(0);
    }
    s.end();
  });
  // 1 KiB buffers would come from Node's shared pool with Buffer.allocUnsafe.
  const res = await openHttp1(url, {
    headers: {},
    signal: new AbortController().signal,
    timeout: 2_000,
    bufferSize: 1024,
  });
  const parts: Buffer[] = [];
  await res.body.read(
    async (chunk) => {
      await sleep(1); // the next chunk is read meanwhile: it must not land in this one's memory
      parts.push(Buffer.from(chunk));
      return true;
    },
    { stallTimeout: 2_000 },
  );
  assert.deepEqual(Buffer.concat(parts), body);
});

test('openHttp1() stops when the sink answers false and closes the connection', async (t) => {
  const body = fixture(2 * 1024 * 1024);
  let closed = false;
  const { url } = await rawServer(t, async (s) => {
    s.once('close', () => {
      closed = true;
    });
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    s.write(body);
  });
  const res = await openHttp1(url, {
    headers: {},
    signal: new AbortController().signal,
    timeout: 2_000,
    bufferSize: 8192,
  });
  let got = 0;
  await res.body.read(
    (chunk) => {
      got += chunk.length;
      return got < 100_000;
    },
    { stallTimeout: 2_000 },
  );
  assert.ok(got >= 100_000 && got < body.length, `read ${got}`);
  assert.equal(res.body.complete, false);
  await waitFor('the server seeing the connection closed', () => closed);
});

test('openHttp1() rejects with the abort reason', async (t) => {
  const { url } = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  });
  const controller = new AbortController();
  const res = await openHttp1(url, { headers: {}, signal: controller.signal, timeout: 2_000 });
  const reading = res.body.read(() => true, { stallTimeout: 5_000 });
  const reason = new Error('stop now');
  controller.abort(reason);
  await assert.rejects(reading, (e: unknown) => e === reason);
});

test('openHttp1() refuses a header value with CR or LF before connecting', async (t) => {
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  await assert.rejects(
    openHttp1(new URL(`http://127.0.0.1:${port}/`), {
      headers: { 'if-range': '"a"\r\nX-Injected: 1' },
      signal: new AbortController().signal,
      timeout: 2_000,
    }),
    (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.equal(e.message, 'Cannot send header "if-range": value contains CR, LF or NUL');
      return true;
    },
  );
  // A connection would have been accepted by now had one been opened: a second request proves
  // the server is reachable, and it is the first connection the server sees.
  const ok = await openHttp1(new URL(`http://127.0.0.1:${port}/`), {
    headers: {},
    signal: new AbortController().signal,
    timeout: 2_000,
  }).catch((e: unknown) => e);
  assert.ok(ok instanceof NetworkError);
  assert.equal(connections, 1);
});

const strict: [string, string, RegExp][] = [
  [
    'a space before a colon',
    'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    /whitespace between a field name and its colon/,
  ],
  ['a head with bare LFs', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', /bare LF/],
  [
    'both Transfer-Encoding and Content-Length',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    /both Transfer-Encoding and Content-Length/,
  ],
];
for (const [name, wire, pattern] of strict) {
  test(`openHttp1() rejects ${name}, as llhttp does`, async (t) => {
    const { url } = await rawServer(t, async (s) => {
      s.end(wire);
    });
    await assert.rejects(readAll(url), (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.match(e.message, /malformed response/);
      assert.match(e.message, pattern);
      return true;
    });
  });
}

test('openHttp1() rejects read() with the error the sink throws', async (t) => {
  const body = fixture(500_000, 4);
  const { url } = await rawServer(t, async (s) => {
    s.end(
      Buffer.concat([
        Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
      ]),
    );
  });
  const res = await openHttp1(url, {
    headers: {},
    signal: new AbortController().signal,
    timeout: 2_000,
    bufferSize: 16 * 1024,
  });
  const disk = new Error('disk full');
  let calls = 0;
  await assert.rejects(
    res.body.read(
      async () => {
        if (++calls === 3) throw disk;
        return true;
      },
      { stallTimeout: 2_000 },
    ),
    (e: unknown) => e === disk,
  );
  assert.equal(calls, 3);
  assert.equal(res.body.complete, false);
});

test('openHttp1() settles read() only once the sink returns, even when destroyed meanwhile', async (t) => {
  const { url } = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  });
  const res = await openHttp1(url, {
    headers: {},
    signal: new AbortController().signal,
    timeout: 2_000,
  });
  let release: () => void = () => undefined;
  let sinkReturned = false;
  let entered: () => void = () => undefined;
  const inSink = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const reading = res.body.read(
    async () => {
      entered();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      sinkReturned = true;
      return true;
    },
    { stallTimeout: 2_000 },
  );
  await inSink;
  const reason = new Error('shutting down');
  res.body.destroy(reason);
  let settled = false;
  reading.then(
    () => undefined,
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'read() waits for the sink');
  release();
  await assert.rejects(reading, (e: unknown) => e === reason);
  assert.equal(sinkReturned, true);
});
