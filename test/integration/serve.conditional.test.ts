import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { TRANSPORTS } from '../helpers/transports.js';
import { makeTree } from '../helpers/tree.js';

const TEXT = 'abcdefghijklmnopqrstuvwxyz';
const MTIME = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));

const date = (offsetMs: number) => new Date(MTIME.getTime() + offsetMs).toUTCString();

// The same table over HTTP/1.1, HTTP/1.1 over TLS and HTTP/2.
for (const { name: via, send: rawGet, listen } of TRANSPORTS) {
  async function setup(t: { after(fn: () => unknown): void }) {
    const tree = await makeTree({ 'abc.txt': TEXT });
    t.after(tree.cleanup);
    await utimes(join(tree.dir, 'abc.txt'), MTIME, MTIME);
    const server = await listen(t, { root: tree.dir });
    const first = await rawGet(server.url, '/abc.txt');
    return {
      url: server.url,
      etag: first.headers.etag ?? '',
      lm: first.headers['last-modified'] ?? '',
    };
  }

  test(`${via}: Last-Modified is the file time as an IMF-fixdate`, async (t) => {
    const { lm } = await setup(t);
    assert.equal(lm, 'Mon, 06 May 2024 07:08:09 GMT');
  });

  test(`${via}: If-Range with the current strong ETag or the exact date gives the range`, async (t) => {
    const { url, etag, lm } = await setup(t);
    for (const ifRange of [etag, lm]) {
      const res = await rawGet(url, '/abc.txt', { Range: 'bytes=2-4', 'If-Range': ifRange });
      assert.equal(res.status, 206, ifRange);
      assert.equal(res.body.toString(), 'cde');
    }
  });

  test(`${via}: If-Range with a weak tag, another tag, or an inexact date gives 200 with the whole file`, async (t) => {
    const { url, etag } = await setup(t);
    for (const ifRange of [
      `W/${etag}`,
      '"other"',
      date(1000),
      date(-1000),
      date(86_400_000),
      'garbage',
    ]) {
      const res = await rawGet(url, '/abc.txt', { Range: 'bytes=2-4', 'If-Range': ifRange });
      assert.equal(res.status, 200, ifRange);
      assert.equal(res.body.toString(), TEXT);
    }
  });

  test(`${via}: If-None-Match and If-Modified-Since give 304 without a body, before Range`, async (t) => {
    const { url, etag } = await setup(t);
    const cases: Record<string, string>[] = [
      { 'If-None-Match': etag },
      { 'If-None-Match': `"x", ${etag}` },
      { 'If-None-Match': `W/${etag}` },
      { 'If-None-Match': '*' },
      { 'If-Modified-Since': date(0) },
      { 'If-Modified-Since': date(5000) },
      { 'If-None-Match': etag, Range: 'bytes=0-1' },
    ];
    for (const headers of cases) {
      const res = await rawGet(url, '/abc.txt', headers);
      assert.equal(res.status, 304, JSON.stringify(headers));
      assert.equal(res.afterHead, 0, 'no body');
      assert.equal(res.headers.etag, etag);
    }
    const head = await rawGet(url, '/abc.txt', { 'If-None-Match': etag }, 'HEAD');
    assert.equal(head.status, 304);
  });

  test(`${via}: If-None-Match that does not match wins over a matching If-Modified-Since`, async (t) => {
    const { url } = await setup(t);
    const res = await rawGet(url, '/abc.txt', {
      'If-None-Match': '"x"',
      'If-Modified-Since': date(0),
    });
    assert.equal(res.status, 200);
    const older = await rawGet(url, '/abc.txt', { 'If-Modified-Since': date(-1000) });
    assert.equal(older.status, 200);
  });

  test(`${via}: If-Match and If-Unmodified-Since give 412 on mismatch, before Range`, async (t) => {
    const { url, etag } = await setup(t);
    const failing: Record<string, string>[] = [
      { 'If-Match': '"x"' },
      { 'If-Match': `W/${etag}` },
      { 'If-Unmodified-Since': date(-1000) },
      { 'If-Match': '"x"', Range: 'bytes=0-1' },
      { 'If-Match': '"x"', 'If-None-Match': etag },
    ];
    for (const headers of failing) {
      const res = await rawGet(url, '/abc.txt', headers);
      assert.equal(res.status, 412, JSON.stringify(headers));
    }
    const passing: Record<string, string>[] = [
      { 'If-Match': etag },
      { 'If-Match': '*' },
      { 'If-Unmodified-Since': date(0) },
      { 'If-Match': etag, 'If-Unmodified-Since': date(-100_000) },
    ];
    for (const headers of passing) {
      const res = await rawGet(url, '/abc.txt', { ...headers, Range: 'bytes=0-1' });
      assert.equal(res.status, 206, JSON.stringify(headers));
      assert.equal(res.body.toString(), 'ab');
    }
  });

  test(`${via}: an invalid date in If-Modified-Since or If-Unmodified-Since is ignored`, async (t) => {
    const { url } = await setup(t);
    for (const headers of [
      { 'If-Modified-Since': 'yesterday' },
      { 'If-Unmodified-Since': '1715000000' },
    ]) {
      const res = await rawGet(url, '/abc.txt', headers);
      assert.equal(res.status, 200);
    }
  });
}
