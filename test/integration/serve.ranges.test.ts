import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { CONNECTION_SPECIFIC, TRANSPORTS } from '../helpers/transports.js';
import { makeTree } from '../helpers/tree.js';

const SIZE = 100_003;
const body = bytes(SIZE);

// The same table over HTTP/1.1, HTTP/1.1 over TLS and HTTP/2: every range behaviour must be
// identical whatever the framing.
for (const { name: via, send: rawGet, listen } of TRANSPORTS) {
  async function setup(t: { after(fn: () => unknown): void }) {
    const tree = await makeTree({
      'data.bin': body,
      'empty.txt': '',
      'abc.txt': 'abcdefghijklmnopqrstuvwxyz',
    });
    t.after(tree.cleanup);
    const server = await listen(t, { root: tree.dir });
    return server.url;
  }

  test(`${via}: GET without Range: 200, whole file, Accept-Ranges, strong ETag, Last-Modified`, async (t) => {
    const url = await setup(t);
    const res = await rawGet(url, '/data.bin');
    assert.equal(res.status, 200);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.match(res.headers.etag ?? '', /^"[^"]+"$/);
    assert.match(
      res.headers['last-modified'] ?? '',
      /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.equal(res.headers['content-length'], String(SIZE));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(res.body, body);
  });

  const single: [string, number, number][] = [
    ['bytes=500-999', 500, 999],
    ['bytes=0-0', 0, 0],
    ['bytes=100000-', 100_000, SIZE - 1],
    ['bytes=-10', SIZE - 10, SIZE - 1],
    ['bytes=-999999999', 0, SIZE - 1],
    ['bytes=99990-200000', 99_990, SIZE - 1],
    ['BYTES=1-2', 1, 2],
    ['bytes=0-99999999999999999999999999', 0, SIZE - 1],
  ];
  for (const [range, start, end] of single) {
    test(`${via}: GET with ${range}: 206 with exactly bytes ${start}-${end}`, async (t) => {
      const url = await setup(t);
      const res = await rawGet(url, '/data.bin', { Range: range });
      assert.equal(res.status, 206);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${SIZE}`);
      assert.equal(res.headers['content-length'], String(end - start + 1));
      assert.deepEqual(res.body, body.subarray(start, end + 1));
    });
  }

  test(`${via}: GET with two ranges: multipart/byteranges, exact framing and length`, async (t) => {
    const url = await setup(t);
    const res = await rawGet(url, '/data.bin', { Range: 'bytes=10-19, 5000-5009' });
    assert.equal(res.status, 206);
    const m = /^multipart\/byteranges; boundary=(.+)$/.exec(res.headers['content-type'] ?? '');
    assert.ok(m, res.headers['content-type']);
    const boundary = m[1] ?? '';
    assert.equal(Number(res.headers['content-length']), res.body.length);
    const expected = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-19/${SIZE}\r\n\r\n`,
      ),
      body.subarray(10, 20),
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5000-5009/${SIZE}\r\n\r\n`,
      ),
      body.subarray(5000, 5010),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    assert.deepEqual(res.body, expected);
  });

  test(`${via}: GET multipart boundaries are random, not a counter`, async (t) => {
    const url = await setup(t);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await rawGet(url, '/data.bin', { Range: 'bytes=0-1,100-101' });
      seen.add(res.headers['content-type'] ?? '');
    }
    assert.equal(seen.size, 3);
  });

  test(`${via}: GET with overlapping and adjacent ranges coalesces them into one 206`, async (t) => {
    const url = await setup(t);
    const res = await rawGet(url, '/data.bin', { Range: 'bytes=0-9,5-14,15-19' });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], `bytes 0-19/${SIZE}`);
    assert.deepEqual(res.body, body.subarray(0, 20));
  });

  test(`${via}: GET with an abusive range set never answers more than the file`, async (t) => {
    const url = await setup(t);
    const abusive = [
      `bytes=${Array(1000).fill('0-0').join(',')}`, // more than the cap: ignored
      `bytes=${Array.from({ length: 90 }, (_, i) => `${i * 1000}-${i * 1000 + 999}`).join(',')}`,
      `bytes=0-,${Array.from({ length: 80 }, (_, i) => `5-${i + 5}`).join(',')}`, // CVE-2011-3192 shape
      `bytes=${Array.from({ length: 100 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`,
    ];
    for (const range of abusive) {
      const res = await rawGet(url, '/data.bin', { Range: range });
      assert.ok([200, 206].includes(res.status), `${res.status}`);
      assert.ok(res.body.length <= SIZE, `${range.slice(0, 30)}: ${res.body.length} bytes`);
      assert.equal(Number(res.headers['content-length']), res.body.length);
      if (res.status === 200) assert.deepEqual(res.body, body);
    }
  });

  for (const range of [
    'bytes=100003-',
    'bytes=-0',
    'bytes=200000-300000',
    'bytes=100003-100003,200000-',
  ]) {
    test(`${via}: GET with unsatisfiable ${range}: 416 with Content-Range bytes */size`, async (t) => {
      const url = await setup(t);
      const res = await rawGet(url, '/data.bin', { Range: range });
      assert.equal(res.status, 416);
      assert.equal(res.headers['content-range'], `bytes */${SIZE}`);
    });
  }

  for (const range of [
    'bytes=5-2',
    'items=0-5',
    'bytes=abc',
    'bytes=0-4,x',
    'bytes=1x-5',
    'bytes=',
    'bytes 0-5',
  ]) {
    test(`${via}: GET with invalid ${JSON.stringify(range)}: ignored, 200 with the whole file`, async (t) => {
      const url = await setup(t);
      const res = await rawGet(url, '/data.bin', { Range: range });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, body);
    });
  }

  test(`${via}: GET with Range on a zero-length file: 200 and an empty body`, async (t) => {
    const url = await setup(t);
    for (const range of ['bytes=0-0', 'bytes=-5', 'bytes=0-']) {
      const res = await rawGet(url, '/empty.txt', { Range: range });
      assert.equal(res.status, 200, range);
      assert.equal(res.headers['content-length'], '0');
      assert.equal(res.body.length, 0);
    }
  });

  test(`${via}: HEAD has the headers of GET and no body`, async (t) => {
    const url = await setup(t);
    const get = await rawGet(url, '/abc.txt');
    const head = await rawGet(url, '/abc.txt', {}, 'HEAD');
    assert.equal(head.status, 200);
    for (const name of [
      'content-length',
      'content-type',
      'etag',
      'last-modified',
      'accept-ranges',
    ]) {
      assert.equal(head.headers[name], get.headers[name], name);
    }
    assert.equal(head.afterHead, 0, 'no body bytes after the head');
    assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
  });

  test(`${via}: other methods get 405 with Allow: GET, HEAD`, async (t) => {
    const url = await setup(t);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await rawGet(url, '/abc.txt', { 'Content-Length': '0' }, method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
    }
  });

  test(`${via}: no connection-specific field in any response`, async (t) => {
    const url = await setup(t);
    for (const headers of [{}, { Range: 'bytes=0-1,5-6' }, { Range: 'bytes=999999-' }]) {
      const res = await rawGet(url, '/data.bin', headers);
      for (const field of CONNECTION_SPECIFIC) {
        if (via === 'h2') assert.equal(res.headers[field], undefined, `${field} on ${via}`);
      }
      assert.notEqual(res.headers['transfer-encoding'], 'chunked');
    }
  });
}
