/**
 * What only the S3 source has to prove (issue 14), on a real Ceph RGW: the command line contract,
 * an object replaced while served (never spliced), the store down or silent (502/504 with
 * Retry-After, then recovery by itself), and a folder of 10,000+ keys listed page by page. The
 * behaviour both sources share is in sources.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { bytes } from '../helpers/bytes.js';
import { type TestS3, useCeph } from '../helpers/ceph.js';
import { killServeCli, runCli, startServeCli } from '../helpers/cli.js';
import { listen } from '../helpers/listen.js';
import { rawGet } from '../helpers/raw-http.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';

let ceph: TestS3;

before(async () => {
  ceph = await useCeph();
});
after(async () => {
  await ceph?.stop();
});

async function put(key: string, body: Uint8Array | string): Promise<void> {
  await ceph.client.send(new PutObjectCommand({ Bucket: ceph.bucket, Key: key, Body: body }));
}

/** The environment of a `ranged serve s3://…` child: the AWS variables, nothing else of ours. */
function s3Env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [name, value] of Object.entries({ ...ceph.env, ...extra })) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

test('ranged serve s3://BUCKET/PREFIX --port 0 prints its URL and serves the prefix as a folder', async (t) => {
  const body = bytes(300_000, 11);
  await put('cli/a/b.bin', body);
  await put('cli-other/secret.txt', 'secret');
  const { child, url } = await startServeCli(`s3://${ceph.bucket}/cli`, ['--quiet'], {
    env: s3Env(),
    timeoutMs: 30_000,
  });
  t.after(() => killServeCli(child));
  const res = await rawGet(url, '/a/b.bin', { Range: 'bytes=1000-1999' });
  assert.equal(res.status, 206);
  assert.deepEqual(res.body, body.subarray(1000, 2000));
  // A path longer than S3 keys can be names nothing: 404, not a store error.
  assert.equal((await rawGet(url, `/${'x'.repeat(200)}/${'y'.repeat(900)}`)).status, 404);
  const listing = await rawGet(url, '/', { Accept: 'application/json' });
  const names = (
    JSON.parse(listing.body.toString()) as { entries: { name: string; mtime: string | null }[] }
  ).entries;
  assert.deepEqual(
    names.map((e) => e.name),
    ['a'],
  );
  // A folder of a bucket is a key prefix: it has no time (null, not a made-up 1970).
  assert.equal(names[0]?.mtime, null);
  // --s3-endpoint wins over AWS_ENDPOINT_URL.
  const { child: second, url: url2 } = await startServeCli(
    `s3://${ceph.bucket}/cli`,
    ['--quiet', '--s3-endpoint', ceph.endpoint],
    { env: s3Env({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }), timeoutMs: 30_000 },
  );
  t.after(() => killServeCli(second));
  assert.equal((await rawGet(url2, '/a/b.bin')).status, 200);
});

test('bad s3 sources: one clear line and exit 2, no stack trace', async () => {
  const closed = await freePort();
  const cases: [string[], Record<string, string | undefined>, RegExp][] = [
    [[`s3://${ceph.bucket}`], { AWS_ACCESS_KEY_ID: undefined }, /AWS_ACCESS_KEY_ID/],
    [[`s3://${ceph.bucket}`], { AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}` }, /reach/],
    [['s3://no-such-bucket-here'], {}, /no bucket/],
    [['s3://ab'], {}, /bucket name/],
    [[`s3://${ceph.bucket}`], { AWS_SECRET_ACCESS_KEY: 'wrong' }, /refused these credentials/],
    [['.', '--s3-endpoint', ceph.endpoint], {}, /not an s3:\/\/ bucket/],
  ];
  for (const [args, env, message] of cases) {
    const run = await runCli(['serve', ...args, '--port', '0'], {
      env: s3Env(env),
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  }
});

test('an object replaced after its metadata was cached is answered for the new object, whole', async (t) => {
  for (const [name, value] of Object.entries(ceph.env)) process.env[name] = value;
  await put('swap/x.txt', 'first version, longer than the second');
  const server = await listen(t, { root: `s3://${ceph.bucket}/swap` });
  const first = await rawGet(server.url, '/x.txt');
  assert.equal(first.body.toString(), 'first version, longer than the second');
  await put('swap/x.txt', 'second');
  // The cached size and ETag are the old ones; the store's If-Match says so, and the answer is
  // planned again for the new object (within the cache's moment, so this is the If-Match path).
  const again = await rawGet(server.url, '/x.txt');
  assert.equal(again.status, 200);
  assert.equal(again.body.toString(), 'second');
  assert.equal(again.headers['content-length'], '6');
  assert.notEqual(again.headers.etag, first.headers.etag);
});

test('an object replaced between two ranges of one response: the body ends short, never spliced', async (t) => {
  for (const [name, value] of Object.entries(ceph.env)) process.env[name] = value;
  const SIZE = 24 * 1024 * 1024;
  const old = bytes(SIZE, 21);
  await put('mid/big.bin', old);
  const server = await listen(t, { root: `s3://${ceph.bucket}/mid` });
  // The first range is larger than the socket buffers: while the client does not read, the
  // server is still writing it, and the second range is read from the store after the swap.
  const url = new URL(server.url);
  const received: Buffer[] = [];
  const req = request({
    host: url.hostname,
    port: url.port,
    path: '/big.bin',
    headers: { Range: `bytes=0-${20 * 1024 * 1024 - 1},${SIZE - 100}-${SIZE - 1}` },
    agent: false,
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 206);
  const declared = Number(res.headers['content-length']);
  res.pause();
  await put('mid/big.bin', bytes(SIZE, 22));
  const ended = new Promise<'end' | 'cut'>((resolve) => {
    res.on('end', () => resolve('end'));
    res.on('aborted', () => resolve('cut'));
    res.on('error', () => resolve('cut'));
    res.on('close', () => resolve(res.complete ? 'end' : 'cut'));
  });
  res.on('data', (c: Buffer) => received.push(c));
  res.resume();
  const how = await ended;
  const got = Buffer.concat(received);
  assert.equal(how, 'cut');
  assert.ok(got.length < declared, `${got.length} of ${declared}`);
  // What did arrive is the old object's, never a byte of the new one in the old one's place.
  const firstPart = got.indexOf(Buffer.from('\r\n\r\n')) + 4;
  const payload = got.subarray(firstPart, firstPart + 1024 * 1024);
  assert.deepEqual(payload, old.subarray(0, payload.length));
});

test('the store refusing is 502, silent is 504 within the timeout, both with Retry-After; then it recovers', async (t) => {
  for (const [name, value] of Object.entries(ceph.env)) process.env[name] = value;
  await put('down/ok.txt', 'fine');
  const store = new URL(ceph.endpoint);
  const relay = await startTcpRelay(Number(store.port));
  t.after(() => relay.close());
  const server = await listen(t, {
    root: `s3://${ceph.bucket}/down`,
    s3Endpoint: relay.url,
    s3Timeout: 1_500,
  });
  assert.equal((await rawGet(server.url, '/ok.txt')).status, 200);

  // Refused: nothing listens on the store's port.
  relay.upstream = await freePort();
  relay.cut();
  const refused = await rawGet(server.url, '/other.txt');
  assert.equal(refused.status, 502);
  assert.equal(refused.headers['retry-after'], '5');

  // Silent: a store that accepts and never answers.
  const silent = net.createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  relay.upstream = (silent.address() as net.AddressInfo).port;
  relay.cut();
  const started = performance.now();
  const timedOut = await rawGet(server.url, '/another.txt');
  const took = performance.now() - started;
  assert.equal(timedOut.status, 504);
  assert.equal(timedOut.headers['retry-after'], '5');
  assert.ok(took < 10_000, `answered in ${Math.round(took)} ms`);

  // Back: the next request is served, no restart needed.
  relay.upstream = Number(store.port);
  relay.cut();
  const back = await rawGet(server.url, '/ok.txt');
  assert.equal(back.status, 200);
  assert.equal(back.body.toString(), 'fine');
});

test('a folder of 10,050 keys is listed whole, page by page (S3 lists 1,000 at a time)', async (t) => {
  for (const [name, value] of Object.entries(ceph.env)) process.env[name] = value;
  const COUNT = 10_050;
  const keys = Array.from({ length: COUNT }, (_, i) => `big/k${String(i).padStart(5, '0')}.txt`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        await put(key, 'x');
      }
    }),
  );
  const server = await listen(t, { root: `s3://${ceph.bucket}` });
  const res = await rawGet(server.url, '/big/?page=11', { Accept: 'application/json' });
  assert.equal(res.status, 200);
  const doc = JSON.parse(res.body.toString()) as {
    total: number;
    pages: number;
    entries: { name: string }[];
  };
  assert.equal(doc.total, COUNT);
  assert.equal(doc.pages, 11);
  assert.deepEqual(
    doc.entries.map((e) => e.name),
    keys.slice(10_000).map((k) => k.slice('big/'.length)),
  );
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
