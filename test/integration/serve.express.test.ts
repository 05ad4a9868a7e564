/**
 * createHandler() as Express middleware under a mount prefix: Express strips the prefix from
 * req.url (`/files` arrives as `/`), so the handler reads req.originalUrl to see that the slash is
 * missing and redirects there, keeping the query, and every relative link on the listing works.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { createHandler } from '../../src/server/handler.js';
import { rawGet } from '../helpers/raw-http.js';
import { makeTree } from '../helpers/tree.js';

async function mounted(t: { after(fn: () => unknown): void }) {
  const tree = await makeTree({ 'a.txt': 'hello from a', sub: { 'b.txt': 'bee' } });
  t.after(tree.cleanup);
  const app = express();
  const handler = createHandler(tree.dir);
  app.use('/files', handler);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('express 404');
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    handler.close();
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('express: GET /files (no slash) under app.use("/files") redirects to /files/, keeping the query', async (t) => {
  const url = await mounted(t);
  const plain = await rawGet(url, '/files');
  assert.equal(plain.status, 301);
  assert.equal(new URL(plain.headers.location ?? '', `${url}/files`).pathname, '/files/');
  const query = await rawGet(url, '/files?sort=size&order=desc');
  assert.equal(query.status, 301);
  const target = new URL(query.headers.location ?? '', `${url}/files?sort=size&order=desc`);
  assert.equal(`${target.pathname}${target.search}`, '/files/?sort=size&order=desc');
  // Below the prefix, the usual relative redirect.
  const sub = await rawGet(url, '/files/sub');
  assert.equal(sub.status, 301);
  assert.equal(new URL(sub.headers.location ?? '', `${url}/files/sub`).pathname, '/files/sub/');
  // With the slash, the listing.
  const listing = await rawGet(url, '/files/');
  assert.equal(listing.status, 200);
  assert.match(listing.headers['content-type'] ?? '', /^text\/html/);
});

test('express: following the redirect, the listing links lead to the files under the prefix', async (t) => {
  const url = await mounted(t);
  const res = await fetch(`${url}/files`);
  assert.equal(res.status, 200);
  assert.equal(new URL(res.url).pathname, '/files/');
  const html = await res.text();
  const href = /href="(a\.txt)"/.exec(html)?.[1];
  assert.ok(href, 'a link to a.txt');
  const file = await fetch(new URL(href, res.url), { headers: { Range: 'bytes=6-9' } });
  assert.equal(file.status, 206);
  assert.equal(await file.text(), 'from');
  const subHref = /href="(sub\/)"/.exec(html)?.[1] ?? '';
  const sub = await fetch(new URL(subHref, res.url));
  assert.equal(new URL(sub.url).pathname, '/files/sub/');
  assert.match(await sub.text(), /b\.txt/);
});

test('express: a missing file falls through to the next middleware', async (t) => {
  const url = await mounted(t);
  const res = await rawGet(url, '/files/nope.txt');
  assert.equal(res.status, 404);
  assert.equal(res.body.toString(), 'express 404');
});
