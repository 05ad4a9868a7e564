/**
 * `upload()` against a scripted tus server on 127.0.0.1 port 0 (the answers a real server gives
 * rarely, on cue): --chunk-checksum sends sha256 where offered, a 460 is sent again and never
 * counted as done, a 409 asks HEAD and continues from the server's offset, a 503 with
 * Retry-After is retried; and pause()/resume() of the library handle against `ranged serve`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { UploadOptions, UploadProgress } from '../../src/client/types.js';
import { upload } from '../../src/client/upload.js';
import { bytes } from '../helpers/bytes.js';
import { startServeCli } from '../helpers/cli.js';
import { TOKEN } from '../helpers/put-cli.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;

interface Patch {
  offset: number;
  length: number;
  checksum: string | undefined;
  status: number;
}

/** A tus server holding one upload in memory; `script(n)` may override the answer to PATCH n. */
async function scriptedTus(script: (n: number, req: IncomingMessage) => number | undefined) {
  let data = Buffer.alloc(0);
  let length = 0;
  const patches: Patch[] = [];
  const heads: number[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    res.setHeader('Tus-Resumable', '1.0.0');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Tus-Version': '1.0.0',
        'Tus-Extension': 'creation,checksum',
        'Tus-Checksum-Algorithm': 'md5,sha1,sha256',
      });
    } else if (req.method === 'POST') {
      length = Number(req.headers['upload-length']);
      res.writeHead(201, { Location: '/files/one' });
    } else if (req.method === 'HEAD') {
      heads.push(data.length);
      res.writeHead(200, { 'Upload-Offset': String(data.length), 'Upload-Length': String(length) });
    } else if (req.method === 'PATCH') {
      const offset = Number(req.headers['upload-offset']);
      const checksum = req.headers['upload-checksum'] as string | undefined;
      const forced = script(patches.length, req);
      let status = forced ?? 204;
      if (forced === undefined && offset !== data.length) status = 409;
      if (status === 204 && checksum !== undefined) {
        const [algo, digest] = checksum.split(' ');
        if (
          createHash(algo as string)
            .update(body)
            .digest('base64') !== digest
        )
          status = 460;
      }
      if (status === 204) data = Buffer.concat([data, body]);
      patches.push({ offset, length: body.length, checksum, status });
      const headers: Record<string, string> = { 'Upload-Offset': String(data.length) };
      if (status === 503) headers['Retry-After'] = '0';
      res.writeHead(status, headers);
    } else res.writeHead(405);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/files/`,
    patches,
    heads,
    data: () => data,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('upload() --chunk-checksum sends sha256; a 460, a 409 and a 503 are recovered from the server offset', async () => {
  const tree = await makeTree({ state: {} });
  // PATCH 1: forced 460 (discarded); PATCH 3: forced 503 with Retry-After 0; PATCH 4: forced 409.
  const server = await scriptedTus((n) => ({ 1: 460, 3: 503, 4: 409 })[n]);
  try {
    const content = bytes(3 * MiB + 17, 2);
    const file = join(tree.dir, 'f.bin');
    await writeFile(file, content);
    const notices: string[] = [];
    const handle = upload(file, server.url, {
      chunkChecksum: true,
      chunkSize: MiB,
      stateDir: join(tree.dir, 'state'),
      retryDelay: 1,
      onNotice: (m) => notices.push(m),
    });
    const result = await handle.done;
    assert.ok(server.data().equals(content), 'byte-identical');
    assert.equal(result.size, content.length);
    assert.ok(server.patches.every((p) => p.checksum?.startsWith('sha256 ')));
    assert.deepEqual(
      server.patches.map((p) => [p.offset, p.status]),
      [
        [0, 204],
        [MiB, 460],
        [MiB, 204],
        [2 * MiB, 503],
        [2 * MiB, 409],
        [2 * MiB, 204],
        [3 * MiB, 204],
      ],
    );
    // After each failure the client asked the server where to go on.
    assert.deepEqual(server.heads, [MiB, 2 * MiB, 2 * MiB]);
    assert.ok(
      notices.some((m) => m.includes('checksum mismatch (460)')),
      notices.join('\n'),
    );
  } finally {
    await server.close();
    await tree.cleanup();
  }
});

test('upload() pause() stops the requests and reports paused; resume() continues from the server offset', async () => {
  const tree = await makeTree({ srv: {}, state: {} });
  const serve = await startServeCli(join(tree.dir, 'srv'), ['--uploads', '--upload-token', TOKEN]);
  try {
    const content = bytes(6 * MiB, 3);
    const file = join(tree.dir, 'p.bin');
    await writeFile(file, content);
    const states: UploadProgress[] = [];
    const handle = upload(file, `${serve.url}/.uploads/`, {
      token: TOKEN,
      limitRate: 2 * MiB,
      chunkSize: MiB,
      stateDir: join(tree.dir, 'state'),
      onProgress: (p) => states.push(p),
    });
    await waitFor('1 MiB confirmed', () => states.some((p) => p.bytes > MiB));
    handle.pause();
    assert.equal(handle.paused, true);
    await waitFor('the pause to take effect', () => states.at(-1)?.state === 'paused');
    const patches = (): number => serve.stderr().match(/^PATCH /gm)?.length ?? 0;
    const before = patches();
    handle.resume();
    const result = await handle.done;
    assert.ok(patches() > before);
    assert.equal(states.at(-1)?.state, 'done');
    assert.ok((await readFile(join(tree.dir, 'srv', 'p.bin'))).equals(content));
    assert.equal(result.protocol, 'tus');
  } finally {
    serve.child.kill('SIGKILL');
    await tree.cleanup();
  }
});

/**
 * `upload()` of `size` bytes through a tus server (or a proxy before it) that refuses bodies above
 * `limit` with 413, as nginx's client_max_body_size does (draft-12 §Limits: retry "using a
 * smaller size"); checks the stored bytes and returns each PATCH's [length, status] and the
 * notices.
 */
async function uploadUnderLimit(limit: number, size: number) {
  const tree = await makeTree({ state: {} });
  const server = await scriptedTus((_n, req) =>
    Number(req.headers['content-length']) > limit ? 413 : undefined,
  );
  try {
    const content = bytes(size, 4);
    const file = join(tree.dir, 'g.bin');
    await writeFile(file, content);
    const notices: string[] = [];
    const result = await upload(file, server.url, {
      stateDir: join(tree.dir, 'state'),
      onNotice: (m) => notices.push(m),
    }).done;
    assert.ok(server.data().equals(content), 'byte-identical');
    assert.equal(result.size, content.length);
    return { sizes: server.patches.map((p) => [p.length, p.status] as const), notices };
  } finally {
    await server.close();
    await tree.cleanup();
  }
}

test('upload() halves its PATCH size after a 413 until the server takes it, and never tries the refused size again', async () => {
  // The first PATCH (8 MiB) is refused, the next ones are 4 MiB however fast the link: the
  // refused size bounds the ceiling from then on, and the rate only grows sizes below it.
  const { sizes, notices } = await uploadUnderLimit(5 * MiB, 18 * MiB + 5);
  assert.deepEqual(sizes, [
    [8 * MiB, 413],
    [4 * MiB, 204],
    [4 * MiB, 204],
    [4 * MiB, 204],
    [4 * MiB, 204],
    [2 * MiB + 5, 204],
  ]);
  assert.equal(notices.length, 1, notices.join('\n'));
  assert.match(notices[0] ?? '', /\(413\): sending at most 4\.0 MiB per request$/);
});

test('upload() grows its PATCHes in steps of 8 MiB with the rate and stays under a limit a 413 found', async () => {
  const { sizes, notices } = await uploadUnderLimit(20 * MiB, 72 * MiB + 5);
  const shown = JSON.stringify(sizes.map(([length, status]) => [length / MiB, status]));
  // How far the size grows depends on this machine's speed (a second's worth of bytes), so
  // what is checked is the shape: 8 MiB first; every size a whole number of 8 MiB steps until
  // a 413, each refusal half the one before, nothing above 20 MiB taken, and nothing larger
  // than a refused size tried again; the last PATCH is the file's rest.
  assert.deepEqual(sizes[0], [8 * MiB, 204], shown);
  const firstRefusal = sizes.findIndex(([, status]) => status === 413);
  const growing = firstRefusal === -1 ? sizes.slice(0, -1) : sizes.slice(0, firstRefusal);
  assert.ok(
    growing.every(([length]) => length % (8 * MiB) === 0),
    shown,
  );
  const refused = sizes.filter(([, status]) => status === 413);
  for (let i = 1; i < refused.length; i++)
    assert.equal(refused[i]?.[0], Math.floor((refused[i - 1]?.[0] as number) / 2), shown);
  assert.ok(
    sizes.every(([length, status]) => status === 413 || length <= 20 * MiB),
    shown,
  );
  if (firstRefusal !== -1)
    assert.ok(
      sizes.slice(firstRefusal + 1).every(([length]) => length < (refused[0]?.[0] as number)),
      shown,
    );
  assert.equal(notices.length, refused.length, notices.join('\n'));
});

test('upload() with a chunkSize keeps it, halves it after a 413, and fails clearly when the least size is refused', async () => {
  const tree = await makeTree({ state: {} });
  const server = await scriptedTus((_n, req) =>
    Number(req.headers['content-length']) > 3 * MiB ? 413 : undefined,
  );
  try {
    const content = bytes(9 * MiB, 5);
    const file = join(tree.dir, 'h.bin');
    await writeFile(file, content);
    await upload(file, server.url, { stateDir: join(tree.dir, 'state'), chunkSize: 4 * MiB }).done;
    assert.ok(server.data().equals(content), 'byte-identical');
    assert.deepEqual(
      server.patches.map((p) => [p.length, p.status]),
      [
        [4 * MiB, 413],
        [2 * MiB, 204],
        [2 * MiB, 204],
        [2 * MiB, 204],
        [2 * MiB, 204],
        [MiB, 204],
      ],
    );
  } finally {
    await server.close();
  }
  const refusing = await scriptedTus(() => 413);
  try {
    const file = join(tree.dir, 'i.bin');
    await writeFile(file, bytes(MiB, 6));
    await assert.rejects(
      upload(file, refusing.url, { stateDir: join(tree.dir, 'state') }).done,
      (error: Error & { status?: number }) =>
        error.status === 413 && /refuses requests of 256 KiB \(413\)$/.test(error.message),
    );
    // 1 MiB (the file), then halved to 512 and 256 KiB: three requests, no retry loop.
    assert.deepEqual(
      refusing.patches.map((p) => p.length),
      [MiB, 512 * 1024, 256 * 1024],
    );
  } finally {
    await refusing.close();
    await tree.cleanup();
  }
});

test('upload() with a bad URL or bad options rejects done with a UsageError, as download() does, and never throws', async () => {
  const cases: [string, UploadOptions][] = [
    ['not a url', {}],
    ['ftp://127.0.0.1/x', {}],
    ['http://127.0.0.1:9/.uploads/', { connections: 0 }],
    ['http://127.0.0.1:9/.uploads/', { retries: -1 }],
  ];
  for (const [url, options] of cases) {
    const handle = upload('/nonexistent/file.bin', url, options);
    await assert.rejects(handle.done, (error: Error) => {
      assert.equal(error.name, 'UsageError', `${url} ${JSON.stringify(options)}: ${error.message}`);
      assert.match(error.message, /^Cannot upload/);
      return true;
    });
    assert.equal(handle.paused, false);
  }
});
