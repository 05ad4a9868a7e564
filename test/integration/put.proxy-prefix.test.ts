/**
 * Uploads behind a reverse proxy that strips a path prefix (issue 13: "uploads work behind a
 * reverse proxy and under a mount prefix"). The proxy here maps `/files/…` to the server's `/…`
 * and says so in `X-Forwarded-Prefix: /files`, as Traefik's StripPrefix does: the server's
 * Location then names the upload under `/files/`, and `ranged put` by tus and by the draft
 * (`-c 2` included: the final concatenation names the partial uploads by their proxied URLs)
 * completes through it. Without the field, the Location stays a path from the server's root.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { startServeCli } from '../helpers/cli.js';
import { runPut, TOKEN } from '../helpers/put-cli.js';
import { makeTree } from '../helpers/tree.js';

const MiB = 1024 * 1024;
const PREFIX = '/files';

/** A reverse proxy on 127.0.0.1: `PREFIX/x` → upstream `/x` with X-Forwarded-Prefix; else 404. */
async function stripPrefixProxy(upstream: string, sendPrefix: boolean) {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith(`${PREFIX}/`)) {
      res.writeHead(404).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
    if (sendPrefix) headers['x-forwarded-prefix'] = PREFIX;
    const out = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: path.slice(PREFIX.length),
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PREFIX}`,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function setup(sendPrefix = true) {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  const server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
  const proxy = await stripPrefixProxy(server.url, sendPrefix);
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    proxy,
    async cleanup() {
      await proxy.close();
      server.child.kill('SIGKILL');
      await root.cleanup();
    },
  };
}

/** The Location of a tus creation POSTed to `endpoint`. */
async function createdLocation(endpoint: string, extra: Record<string, string> = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': '1',
      'Upload-Metadata': `filename ${Buffer.from(`probe-${Math.random()}.bin`).toString('base64')}`,
      Authorization: `Bearer ${TOKEN}`,
      ...extra,
    },
  });
  assert.equal(res.status, 201, await res.text());
  return res.headers.get('location');
}

test('behind a proxy that strips /files and says so, Location is under /files and ranged put completes by tus, -c 2 and the draft', async () => {
  const t = await setup();
  try {
    assert.match(
      String(await createdLocation(`${t.proxy.url}/.uploads/`)),
      /^\/files\/\.uploads\/[\w-]{22}$/,
    );
    const data = bytes(9 * MiB + 11, 21);
    const file = join(t.local, 'take.wav');
    await writeFile(file, data);
    const tus = await runPut([file, `${t.proxy.url}/.uploads/`, '--quiet'], t.state);
    assert.equal(tus.code, 0, tus.stderr);
    assert.ok((await readFile(join(t.srv, 'take.wav'))).equals(data), 'tus: byte-identical');
    const parallel = [file, `${t.proxy.url}/.uploads/`, '--name', 'c2.wav', '-c', '2', '--quiet'];
    const concat = await runPut(parallel, t.state);
    assert.equal(concat.code, 0, concat.stderr);
    assert.ok((await readFile(join(t.srv, 'c2.wav'))).equals(data), '-c 2: byte-identical');
    const ietf = await runPut([file, `${t.proxy.url}/music/take.wav`, '--quiet'], t.state);
    assert.equal(ietf.code, 0, ietf.stderr);
    assert.ok(
      (await readFile(join(t.srv, 'music', 'take.wav'))).equals(data),
      'draft: byte-identical',
    );
  } finally {
    await t.cleanup();
  }
});

test('without X-Forwarded-Prefix (or with one that is not a plain path) the Location is a path from the server root', async () => {
  const t = await setup(false);
  try {
    assert.match(
      String(await createdLocation(`${t.proxy.url}/.uploads/`)),
      /^\/\.uploads\/[\w-]{22}$/,
    );
    const odd = { 'X-Forwarded-Prefix': '//evil.example/x' };
    assert.match(
      String(await createdLocation(`${t.proxy.url}/.uploads/`, odd)),
      /^\/\.uploads\/[\w-]{22}$/,
    );
  } finally {
    await t.cleanup();
  }
});
