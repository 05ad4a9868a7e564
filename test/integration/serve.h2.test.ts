/**
 * HTTPS with HTTP/2 and HTTP/1.1 on one port: curl --http2 as a real client, many streams on one
 * session, the HTTP/2 counterparts of the HTTP/1 protections (send timeout per stream, idle
 * sessions, a bound on streams, graceful close), the handler on a plain node:http2 server, and the
 * CLI's --tls-cert/--tls-key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type ClientHttp2Session, connect, createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createHandler } from '../../src/server/handler.js';
import { bytes } from '../helpers/bytes.js';
import { runCli, startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { testCertificate } from '../helpers/tls.js';
import { h2Get, tlsRawGet } from '../helpers/transports.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const SIZE = 3 * 1024 * 1024 + 17;
const body = bytes(SIZE);

function certificate() {
  const cert = testCertificate();
  if (cert === undefined) throw new Error('Cannot make a test certificate: openssl is missing');
  return cert;
}

async function setup(t: { after(fn: () => unknown): void }, options = {}) {
  const tree = await makeTree({ 'data.bin': body, sub: { 'a.txt': 'hello' } });
  t.after(tree.cleanup);
  const cert = certificate();
  const server = await listen(t, {
    root: tree.dir,
    tls: { cert: cert.cert, key: cert.key },
    ...options,
  });
  return { url: server.url, dir: tree.dir, server, cert };
}

/** curl with the test certificate trusted; returns the body, the head and the write-out line. */
async function curl(args: string[], cert: { certPath: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-curl-'));
  try {
    const out = join(dir, 'body');
    const head = join(dir, 'head');
    await writeFile(out, '');
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '--cacert',
        cert.certPath,
        '-o',
        out,
        '-D',
        head,
        '-w',
        '%{http_version} %{http_code}',
        ...args,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    return { got: await readFile(out), head: await readFile(head, 'utf8'), info: stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('h2: the URL is https://, and curl --http2 gets exact bytes for a range, a multipart and the whole file', async (t) => {
  const { url, cert } = await setup(t);
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const range = await curl(['--http2', '-r', '1000-2999', `${url}/data.bin`], cert);
  assert.equal(range.info, '2 206');
  assert.deepEqual(range.got, body.subarray(1000, 3000));
  const whole = await curl(['--http2', `${url}/data.bin`], cert);
  assert.equal(whole.info, '2 200');
  assert.deepEqual(whole.got, body);
  // The same multipart over HTTP/2 and HTTP/1.1: same framing, same Content-Length.
  const h2 = await h2Get(url, '/data.bin', { range: 'bytes=0-9,2000000-2000009' });
  const h1 = await tlsRawGet(url, '/data.bin', { Range: 'bytes=0-9,2000000-2000009' });
  assert.equal(h1.status, 206);
  assert.equal(h2.status, 206);
  assert.equal(h2.headers['content-length'], h1.headers['content-length']);
  assert.equal(Number(h2.headers['content-length']), h2.body.length);
  const boundary = /boundary=(\S+)/.exec(h2.headers['content-type'] ?? '')?.[1] ?? '';
  const h1boundary = /boundary=(\S+)/.exec(h1.headers['content-type'] ?? '')?.[1] ?? '';
  assert.equal(
    h1.body.toString('latin1').replaceAll(h1boundary, boundary),
    h2.body.toString('latin1'),
  );
  assert.ok(h2.body.includes(body.subarray(2_000_000, 2_000_010)));
});

test('h2: curl --http2 gets the listing, HEAD without a body, and 304 on If-None-Match', async (t) => {
  const { url, cert } = await setup(t);
  const listing = await curl(['--http2', `${url}/`], cert);
  assert.equal(listing.info, '2 200');
  assert.match(listing.got.toString(), /data\.bin/);
  const head = await curl(['--http2', '-I', `${url}/data.bin`], cert);
  assert.equal(head.info, '2 200');
  assert.match(head.head, new RegExp(`content-length: ${SIZE}`));
  // curl -I writes the head where the body would go: nothing else came.
  assert.equal(head.got.toString(), head.head);
  const etag = /etag: (\S+)/.exec(head.head)?.[1] ?? '';
  const notModified = await curl(
    ['--http2', '-H', `If-None-Match: ${etag}`, `${url}/data.bin`],
    cert,
  );
  assert.equal(notModified.info, '2 304');
  assert.equal(notModified.got.length, 0);
  const redirect = await h2Get(url, '/sub');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, 'sub/');
});

test('h2: 40 range requests at once on one session each get exactly their bytes', async (t) => {
  const { url } = await setup(t);
  const session = connect(url, { rejectUnauthorized: false });
  t.after(() => session.destroy());
  const requests = Array.from({ length: 40 }, (_, i) => {
    const start = i * 70_001;
    const end = start + 300_000;
    return new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/data.bin', range: `bytes=${start}-${end}` });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => {
        try {
          assert.deepEqual(Buffer.concat(chunks), body.subarray(start, end + 1), `${start}-${end}`);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
      stream.end();
    });
  });
  await Promise.all(requests);
});

test('h2: the server announces a bound on concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS)', async (t) => {
  const { url } = await setup(t, { maxStreams: 7 });
  const session = connect(url, { rejectUnauthorized: false });
  t.after(() => session.destroy());
  await once(session, 'remoteSettings');
  assert.equal(session.remoteSettings.maxConcurrentStreams, 7);
  const defaults = await setup(t);
  const other = connect(defaults.url, { rejectUnauthorized: false });
  t.after(() => other.destroy());
  await once(other, 'remoteSettings');
  assert.equal(other.remoteSettings.maxConcurrentStreams, 100);
});

/** A session whose client never reads: the flow-control windows fill and bytes stay waiting. */
function stalledSession(url: string): ClientHttp2Session {
  return connect(url, {
    rejectUnauthorized: false,
    settings: { initialWindowSize: 65_535 },
  });
}

test('h2: streams past maxStreamsTotal across sessions get 503 at once, and are served again when room is made', async (t) => {
  const { url } = await setup(t, { maxStreamsTotal: 3 });
  // Three sessions, each with one stream whose client reads nothing: they stay open.
  const held = [0, 1, 2].map(() => stalledSession(url));
  t.after(() => {
    for (const session of held) session.destroy();
  });
  const stalled = held.map((session) => {
    const req = session.request({ ':path': '/data.bin' });
    req.pause();
    req.on('error', () => {});
    req.end();
    return req;
  });
  await Promise.all(stalled.map((req) => once(req, 'response')));
  // A fourth stream, on a fresh session, is refused with 503 and Retry-After.
  const extra = connect(url, { rejectUnauthorized: false });
  t.after(() => extra.destroy());
  const refused = extra.request({ ':path': '/sub/a.txt' });
  refused.end();
  const [headers] = (await once(refused, 'response')) as [Record<string, string>];
  assert.equal(headers[':status'], 503);
  assert.equal(headers['retry-after'], '1');
  refused.resume();
  // Room again once a held stream closes.
  stalled[0]?.close();
  await waitFor('a stream served after room was made', async () => {
    const req = extra.request({ ':path': '/sub/a.txt' });
    req.end();
    const [h] = (await once(req, 'response')) as [Record<string, string | number>];
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => {
      text += c;
    });
    await once(req, 'end');
    return h[':status'] === 200 && text === 'hello';
  });
});

test('h2: a stream whose client takes nothing is reset after the send timeout; the session goes on', async (t) => {
  const log: string[] = [];
  const { url } = await setup(t, { sendTimeout: 300, log: (line: string) => log.push(line) });
  const session = stalledSession(url);
  t.after(() => session.destroy());
  const stalled = session.request({ ':path': '/data.bin' });
  stalled.pause(); // no WINDOW_UPDATE: the server can send 64 KiB, then must wait
  stalled.end();
  const closed = once(stalled, 'close');
  stalled.on('error', () => {});
  await closed;
  assert.notEqual(stalled.rstCode, 0, 'reset by the server');
  await waitFor('the aborted response in the log', () =>
    log.find((line) => /^GET \/data\.bin 200\(aborted\) \d+ \d+ms$/.test(line)),
  );
  // The same session still serves.
  const next = session.request({ ':path': '/sub/a.txt' });
  next.end();
  let text = '';
  next.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  await once(next, 'end');
  assert.equal(text, 'hello');
});

test('h2: a slow client that keeps reading is not cut by the send timeout', async (t) => {
  const { url } = await setup(t, { sendTimeout: 400 });
  const session = stalledSession(url);
  t.after(() => session.destroy());
  const stream = session.request({ ':path': '/data.bin', range: 'bytes=0-1048575' });
  stream.end();
  const chunks: Buffer[] = [];
  // Reads 64 KiB every 100 ms: ~1.6 s in all, four times the send timeout.
  stream.pause();
  const timer = setInterval(() => {
    for (let n = 0; n < 65_536; ) {
      const c = stream.read() as Buffer | null;
      if (c === null) break;
      chunks.push(c);
      n += c.length;
    }
  }, 100);
  t.after(() => clearInterval(timer));
  stream.on('error', () => {});
  await once(stream, 'end');
  clearInterval(timer);
  assert.deepEqual(Buffer.concat(chunks), body.subarray(0, 1048576));
});

test('h2: a session with no stream open is closed after the idle timeout', async (t) => {
  const { url } = await setup(t, { idleTimeout: 300 });
  const session = connect(url, { rejectUnauthorized: false });
  t.after(() => session.destroy());
  const res = await h2Get(url, '/sub/a.txt');
  assert.equal(res.status, 200);
  const stream = session.request({ ':path': '/sub/a.txt' });
  stream.end();
  stream.resume();
  await once(stream, 'end');
  // Pings keep traffic flowing, but no stream is open: the server still says GOAWAY.
  const pinger = setInterval(() => {
    if (!session.closed && !session.destroyed) session.ping(() => {});
  }, 50);
  t.after(() => clearInterval(pinger));
  await once(session, 'close');
  clearInterval(pinger);
});

test('h2: close() lets an in-flight stream finish, then the server is gone', async (t) => {
  const { url, server } = await setup(t);
  const session = connect(url, { rejectUnauthorized: false });
  t.after(() => session.destroy());
  const stream = session.request({ ':path': '/data.bin' });
  stream.end();
  const chunks: Buffer[] = [];
  let closing: Promise<void> | undefined;
  stream.on('data', (c: Buffer) => {
    chunks.push(c);
    closing ??= server.close();
  });
  await once(stream, 'end');
  assert.deepEqual(Buffer.concat(chunks), body);
  await closing;
  await assert.rejects(h2Get(url, '/sub/a.txt'));
});

test('h2: createHandler() works as the listener of a plain node:http2 secure server', async (t) => {
  const tree = await makeTree({ 'data.bin': body });
  t.after(tree.cleanup);
  const cert = certificate();
  const handler = createHandler(tree.dir);
  const server = createSecureServer({ cert: cert.cert, key: cert.key, allowHTTP1: true }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    handler.close();
    server.close();
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const res = await h2Get(url, '/data.bin', { range: 'bytes=5-9,100-104' });
  assert.equal(res.status, 206);
  assert.equal(Number(res.headers['content-length']), res.body.length);
  assert.ok(res.body.includes(body.subarray(100, 105)));
  const big = await h2Get(url, '/data.bin', { range: 'bytes=1000-' });
  assert.deepEqual(big.body, body.subarray(1000));
});

test('ranged serve --tls-cert --tls-key prints https://HOST:PORT and serves HTTP/2 and HTTP/1.1', async (t) => {
  const tree = await makeTree({ 'a.txt': 'hello over tls' });
  t.after(tree.cleanup);
  const cert = certificate();
  const keyPath = join(tree.dir, '..', `key-${process.pid}.pem`);
  await writeFile(keyPath, cert.key);
  const { child, url } = await startServeCli(tree.dir, [
    '--tls-cert',
    cert.certPath,
    '--tls-key',
    keyPath,
  ]);
  t.after(() => child.kill('SIGKILL'));
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  for (const version of ['--http2', '--http1.1']) {
    const res = await curl([version, '-r', '6-9', `${url}/a.txt`], cert);
    assert.equal(res.got.toString(), 'over');
    assert.equal(res.info, `${version === '--http2' ? '2' : '1.1'} 206`);
  }
});

test('ranged serve with one TLS file, a missing file or a bad certificate: one line, exit 2', async (t) => {
  const tree = await makeTree({ 'a.txt': 'x', 'not.pem': 'hello' });
  t.after(tree.cleanup);
  const cert = certificate();
  const keyPath = join(tree.dir, 'key.pem');
  await writeFile(keyPath, cert.key);
  const other = join(tree.dir, 'other-key.pem');
  const { stdout: otherKey } = await run(
    'openssl',
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'],
    {
      encoding: 'utf8',
    },
  );
  await writeFile(other, otherKey);
  const encrypted = join(tree.dir, 'encrypted-key.pem');
  await run('openssl', [
    'pkey',
    '-in',
    keyPath,
    '-aes256',
    '-passout',
    'pass:x',
    '-out',
    encrypted,
  ]);
  const cases: [string[], RegExp][] = [
    [['--tls-cert', cert.certPath], /--tls-cert needs --tls-key/],
    [['--tls-key', keyPath], /--tls-key needs --tls-cert/],
    [
      ['--tls-cert', join(tree.dir, 'nope.pem'), '--tls-key', keyPath],
      /Cannot read --tls-cert .*no such file/,
    ],
    [['--tls-cert', cert.certPath, '--tls-key', tree.dir], /Cannot read --tls-key .*a folder/],
    [['--tls-cert', join(tree.dir, 'not.pem'), '--tls-key', keyPath], /no PEM certificate/],
    [['--tls-cert', cert.certPath, '--tls-key', join(tree.dir, 'not.pem')], /no PEM private key/],
    [
      ['--tls-cert', cert.certPath, '--tls-key', other],
      /Cannot use the TLS certificate and key: key values mismatch/,
    ],
    [['--tls-cert', cert.certPath, '--tls-key', encrypted], /the key is encrypted/],
  ];
  for (const [args, message] of cases) {
    const res = await runCli(['serve', tree.dir, '--port', '0', ...args]);
    assert.equal(res.code, 2, args.join(' '));
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0] ?? '', message);
    assert.doesNotMatch(res.stderr, /\n\s+at /);
    assert.equal(res.stdout, '');
  }
});

test('https: a TLS handshake never started, or HTTP/1.1 headers never finished, is cut by the header timeout', async (t) => {
  const { url } = await setup(t, { headersTimeout: 300 });
  const port = Number(new URL(url).port);
  const { connect: tcpConnect } = await import('node:net');
  const { connect: tlsConnect } = await import('node:tls');
  const silent = tcpConnect(port, '127.0.0.1');
  silent.on('error', () => {});
  const partial = tlsConnect(
    { port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
    () => partial.write('GET /data.bin HTTP/1.1\r\nHost: x\r\n'),
  );
  let answer = '';
  partial.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  partial.on('error', () => {});
  await Promise.all([once(silent, 'close'), once(partial, 'close')]);
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('https/1.1: a client that stops reading is cut after the send timeout', async (t) => {
  // Big enough not to fit in the loopback socket's buffers.
  const big = 32 * 1024 * 1024;
  const tree = await makeTree({ 'data.bin': bytes(big) });
  t.after(tree.cleanup);
  const cert = certificate();
  const log: string[] = [];
  const { url } = await listen(t, {
    root: tree.dir,
    tls: { cert: cert.cert, key: cert.key },
    sendTimeout: 300,
    log: (line: string) => log.push(line),
  });
  const { connect: tlsConnect } = await import('node:tls');
  const socket = tlsConnect(
    { port: Number(new URL(url).port), host: '127.0.0.1', rejectUnauthorized: false },
    () => socket.write('GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n'),
  );
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  socket.once('data', () => socket.pause()); // takes nothing more: the server's buffers fill
  // The server's side: the response ends cut, with less than the file sent.
  const line = await waitFor('the cut response in the access log', () =>
    log.find((l) => /^GET \/data\.bin 200\(aborted\) \d+ \d+ms$/.test(l)),
  );
  const sent = Number(line.split(' ')[3]);
  assert.ok(sent > 0 && sent < big, line);
});
