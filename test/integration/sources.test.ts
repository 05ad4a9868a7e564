/**
 * One table of cases, two sources (issue 14): the same requests against `ranged serve DIR` and
 * `ranged serve s3://BUCKET/site` on a real Ceph RGW, with the same files, must get the same
 * answers: ranges, multipart, 416, If-Range, 304/412, HEAD, 405, redirects, index files, hidden
 * names, the listing (JSON, pages) and uploads. Only what a source cannot share differs (ETag and
 * Last-Modified values), and every case checks bytes against the fixture.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ServerOptions } from '../../src/server/server.js';
import { bytes } from '../helpers/bytes.js';
import { type TestS3, useCeph } from '../helpers/ceph.js';
import { listen } from '../helpers/listen.js';
import { type RawResponse, rawGet } from '../helpers/raw-http.js';
import { makeTree, type Tree } from '../helpers/tree.js';
import { tusCreate, tusPatch, tusRequest } from '../helpers/tus.js';

const DATA = bytes(100_003, 1);
const SONG = bytes(70_000, 7);
const TOKEN = 'sources-token';
const many: Tree = {};
for (let i = 0; i < 25; i++) many[`f${String(i).padStart(2, '0')}.txt`] = `file ${i}\n`;

const TREE: Tree = {
  'data.bin': DATA,
  'abc.txt': 'abcdefghijklmnopqrstuvwxyz',
  'empty.txt': '',
  '.hidden.txt': 'hidden',
  music: { 'song.mp3': SONG, 'notes.txt': 'liner notes\n' },
  site: { 'index.html': '<!doctype html><title>home</title>\n' },
  many,
};

/** A running server for one source, and what differs per source. */
interface Served {
  url: string;
}

type Source = {
  name: 'file' | 's3';
  start(t: { after(fn: () => unknown): void }, options: ServerOptions): Promise<Served>;
};

let ceph: TestS3 | undefined;
let client: S3Client | undefined;

/** Puts a tree into the bucket below `prefix` (folders are key prefixes). */
async function putTree(s3: S3Client, bucket: string, prefix: string, tree: Tree): Promise<void> {
  for (const [name, value] of Object.entries(tree)) {
    const key = `${prefix}${name}`;
    if (typeof value === 'string' || value instanceof Uint8Array) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: value }));
    } else {
      await putTree(s3, bucket, `${key}/`, value);
    }
  }
}

const SOURCES: Source[] = [
  {
    name: 'file',
    async start(t, options) {
      const tree = await makeTree(TREE);
      t.after(tree.cleanup);
      const running = await listen(t, { ...options, root: tree.dir });
      return { url: running.url };
    },
  },
  {
    name: 's3',
    async start(t, options) {
      if (ceph === undefined || client === undefined) throw new Error('no Ceph');
      // A fresh prefix per test: what one test uploads is not in the next one's listing.
      const prefix = `site-${Math.random().toString(36).slice(2, 10)}`;
      await putTree(client, ceph.bucket, `${prefix}/`, TREE);
      // A neighbour that shares the prefix's first letters: never reachable.
      await putTree(client, ceph.bucket, `${prefix}-other/`, { 'secret.txt': 'secret' });
      const running = await listen(t, {
        ...options,
        root: `s3://${ceph.bucket}/${prefix}`,
        s3Endpoint: ceph.endpoint,
      });
      return { url: running.url };
    },
  },
];

before(async () => {
  ceph = await useCeph();
  for (const [name, value] of Object.entries(ceph.env)) process.env[name] = value;
  client = ceph.client;
});
after(async () => {
  await ceph?.stop();
});

/** The parts of a multipart/byteranges body: each part's Content-Range and bytes. */
function parts(res: RawResponse): { range: string; body: Buffer }[] {
  const boundary = /boundary=([^;]+)/.exec(res.headers['content-type'] ?? '')?.[1];
  assert.ok(boundary, 'a multipart boundary');
  const out: { range: string; body: Buffer }[] = [];
  const text = res.body.toString('latin1');
  for (const piece of text.split(`--${boundary}`).slice(1, -1)) {
    const [head, ...rest] = piece.split('\r\n\r\n');
    const range = /content-range: (.+)/i.exec(head ?? '')?.[1]?.trim() ?? '';
    const body = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1');
    out.push({ range, body });
  }
  return out;
}

for (const source of SOURCES) {
  describe(`${source.name} source`, () => {
    test(`${source.name}: GET whole: 200, bytes, Accept-Ranges, strong ETag, type from the name`, async (t) => {
      const { url } = await source.start(t, {});
      const res = await rawGet(url, '/music/song.mp3');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, SONG);
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.match(res.headers.etag ?? '', /^"[^"]+"$/);
      assert.match(res.headers['last-modified'] ?? '', /GMT$/);
      assert.equal(res.headers['content-type'], 'audio/mpeg');
      assert.equal(res.headers['content-length'], String(SONG.length));
    });

    const single: [string, number, number][] = [
      ['bytes=500-999', 500, 999],
      ['bytes=0-0', 0, 0],
      ['bytes=100000-', 100_000, DATA.length - 1],
      ['bytes=-10', DATA.length - 10, DATA.length - 1],
      ['bytes=99990-200000', 99_990, DATA.length - 1],
    ];
    for (const [range, start, end] of single) {
      test(`${source.name}: ${range}: 206 with exactly bytes ${start}-${end}`, async (t) => {
        const { url } = await source.start(t, {});
        const res = await rawGet(url, '/data.bin', { Range: range });
        assert.equal(res.status, 206);
        assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${DATA.length}`);
        assert.deepEqual(res.body, DATA.subarray(start, end + 1));
      });
    }

    test(`${source.name}: two ranges: multipart/byteranges with both parts (RGW alone answers only the first)`, async (t) => {
      const { url } = await source.start(t, {});
      const res = await rawGet(url, '/data.bin', { Range: 'bytes=0-9,50000-50099' });
      assert.equal(res.status, 206);
      assert.match(res.headers['content-type'] ?? '', /^multipart\/byteranges; boundary=/);
      const got = parts(res);
      assert.deepEqual(
        got.map((p) => p.range),
        [`bytes 0-9/${DATA.length}`, `bytes 50000-50099/${DATA.length}`],
      );
      assert.deepEqual(got[0]?.body, DATA.subarray(0, 10));
      assert.deepEqual(got[1]?.body, DATA.subarray(50_000, 50_100));
      assert.equal(res.headers['content-length'], String(res.body.length));
    });

    test(`${source.name}: unsatisfiable range: 416 with Content-Range bytes */size`, async (t) => {
      const { url } = await source.start(t, {});
      const res = await rawGet(url, '/data.bin', { Range: 'bytes=200000-' });
      assert.equal(res.status, 416);
      assert.equal(res.headers['content-range'], `bytes */${DATA.length}`);
    });

    test(`${source.name}: If-Range: the current ETag gives 206, another gives the whole 200 (RGW alone ignores it)`, async (t) => {
      const { url } = await source.start(t, {});
      const etag = (await rawGet(url, '/data.bin', {}, 'HEAD')).headers.etag ?? '';
      const same = await rawGet(url, '/data.bin', { Range: 'bytes=0-9', 'If-Range': etag });
      assert.equal(same.status, 206);
      assert.deepEqual(same.body, DATA.subarray(0, 10));
      const other = await rawGet(url, '/data.bin', { Range: 'bytes=0-9', 'If-Range': '"other"' });
      assert.equal(other.status, 200);
      assert.deepEqual(other.body, DATA);
    });

    test(`${source.name}: If-None-Match gives 304, If-Match with another tag 412`, async (t) => {
      const { url } = await source.start(t, {});
      const etag = (await rawGet(url, '/abc.txt', {}, 'HEAD')).headers.etag ?? '';
      const notModified = await rawGet(url, '/abc.txt', { 'If-None-Match': etag });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.body.length, 0);
      const failed = await rawGet(url, '/abc.txt', { 'If-Match': '"nope"' });
      assert.equal(failed.status, 412);
      const matched = await rawGet(url, '/abc.txt', { 'If-Match': etag });
      assert.equal(matched.status, 200);
      assert.equal(matched.body.toString(), 'abcdefghijklmnopqrstuvwxyz');
    });

    test(`${source.name}: HEAD: the GET's fields, no body; empty file: 200, length 0`, async (t) => {
      const { url } = await source.start(t, {});
      const head = await rawGet(url, '/data.bin', {}, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(DATA.length));
      assert.equal(head.body.length, 0);
      const empty = await rawGet(url, '/empty.txt');
      assert.equal(empty.status, 200);
      assert.equal(empty.headers['content-length'], '0');
    });

    test(`${source.name}: POST to a file: 405 with Allow`, async (t) => {
      const { url } = await source.start(t, {});
      const res = await rawGet(url, '/abc.txt', {}, 'POST');
      assert.equal(res.status, 405);
      assert.match(res.headers.allow ?? '', /GET/);
    });

    test(`${source.name}: missing, hidden, reserved and traversal paths: 404/400, nothing else`, async (t) => {
      const { url } = await source.start(t, {});
      assert.equal((await rawGet(url, '/nope.txt')).status, 404);
      assert.equal((await rawGet(url, '/music/nope.mp3')).status, 404);
      assert.equal((await rawGet(url, '/.hidden.txt')).status, 404);
      assert.equal((await rawGet(url, '/.ranged-uploads/')).status, 404);
      assert.equal((await rawGet(url, '/../site-other/secret.txt')).status, 400);
      assert.equal((await rawGet(url, '/%2e%2e/secret.txt')).status, 400);
      assert.equal((await rawGet(url, '/-other/secret.txt')).status, 404);
    });

    test(`${source.name}: a folder: 301 to the slashed URL, its index file, or its listing`, async (t) => {
      const { url } = await source.start(t, {});
      const redirect = await rawGet(url, '/music');
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, 'music/');
      const index = await rawGet(url, '/site/');
      assert.equal(index.status, 200);
      assert.match(index.body.toString(), /<title>home<\/title>/);
      const page = await rawGet(url, '/music/');
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'] ?? '', /^text\/html/);
      assert.match(page.body.toString(), /song\.mp3/);
    });

    test(`${source.name}: JSON listing: names, kinds, sizes; hidden and upload store names left out`, async (t) => {
      const { url } = await source.start(t, { dotfiles: false });
      const res = await rawGet(url, '/', { Accept: 'application/json' });
      assert.equal(res.status, 200);
      const doc = JSON.parse(res.body.toString()) as {
        entries: { name: string; kind: string; size: number | null }[];
      };
      const names = doc.entries.map((e) => `${e.kind}:${e.name}`).sort();
      assert.deepEqual(names, [
        'directory:many',
        'directory:music',
        'directory:site',
        'file:abc.txt',
        'file:data.bin',
        'file:empty.txt',
      ]);
      assert.equal(doc.entries.find((e) => e.name === 'data.bin')?.size, DATA.length);
    });

    test(`${source.name}: listing pages (?page=N) cover every entry once`, async (t) => {
      const { url } = await source.start(t, { listingLimits: { pageSize: 10 } });
      const seen: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await rawGet(url, `/many/?page=${page}`, { Accept: 'application/json' });
        assert.equal(res.status, 200);
        const doc = JSON.parse(res.body.toString()) as { entries: { name: string }[] };
        seen.push(...doc.entries.map((e) => e.name));
      }
      assert.deepEqual(seen, Object.keys(many).sort());
    });

    test(`${source.name}: a tus upload lands at its name and is served with ranges`, async (t) => {
      const { url } = await source.start(t, { uploads: { token: TOKEN } });
      const file = bytes(6 * 1024 * 1024 + 12_345, 3);
      const meta = `filename ${Buffer.from('music/new.bin').toString('base64')}`;
      const created = await tusCreate(url, TOKEN, {
        'Upload-Length': String(file.length),
        'Upload-Metadata': meta,
      });
      assert.equal(created.status, 201);
      const path = created.path ?? '';
      const half = 3 * 1024 * 1024 + 7;
      assert.equal((await tusPatch(url, TOKEN, path, 0, file.subarray(0, half))).status, 204);
      const head = await tusRequest(url, 'HEAD', path, { token: TOKEN });
      assert.equal(head.headers['upload-offset'], String(half));
      assert.equal((await tusPatch(url, TOKEN, path, half, file.subarray(half))).status, 204);
      const whole = await rawGet(url, '/music/new.bin');
      assert.equal(whole.status, 200);
      assert.deepEqual(whole.body, file);
      const range = await rawGet(url, '/music/new.bin', { Range: 'bytes=5000000-5000099' });
      assert.deepEqual(range.body, file.subarray(5_000_000, 5_000_100));
      // The name is taken now: a second upload to it is refused (409).
      const again = await tusCreate(url, TOKEN, {
        'Upload-Length': '1',
        'Upload-Metadata': meta,
      });
      assert.equal(again.status, 409);
      // The upload state never shows in a listing.
      const listing = await rawGet(url, '/', { Accept: 'application/json' });
      assert.doesNotMatch(listing.body.toString(), /ranged-uploads/);
    });
  });
}
