/**
 * A peer of the upload section in its own process: `node upload-child.js <tus|bare> DIR`.
 * - `tus`: @tus/server with @tus/file-store writing into DIR, under `/files` (tus 1.0.0, no auth).
 * - `bare`: the Node ceiling: a node:http server that streams a PUT body to DIR/<last path
 *   segment> with fs.createWriteStream and pipeline, then answers 201 (anything else: 405).
 * Listens on 127.0.0.1, an ephemeral port, and prints `{"port":N}` once ready. It exits when its
 * stdin closes, so it never outlives a benchmark that was killed with SIGKILL.
 */
import { createWriteStream } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [kind, dir] = process.argv.slice(2);
if (dir === undefined) {
  process.stderr.write('usage: upload-child.js <tus|bare> DIR\n');
  process.exit(2);
}

process.stdin.resume();
process.stdin.once('close', () => process.exit(0));
process.stdin.once('end', () => process.exit(0));

function listen(listener: RequestListener): Promise<number> {
  const server = createServer(listener);
  // Same keep-alive policy as the other bench peers and ranged's startServer.
  server.keepAliveTimeout = 5_000;
  // A 1 GiB PUT at a slow moment must not hit Node 20's 300 s request timeout by accident.
  server.requestTimeout = 0;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

let port: number;
switch (kind) {
  case 'tus': {
    // Loaded only in this process, so the bare server's RSS never includes tus code.
    const { Server } = await import('@tus/server');
    const { FileStore } = await import('@tus/file-store');
    const tus = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
    port = await listen((req, res) => {
      tus.handle(req, res).catch((error: unknown) => {
        process.stderr.write(`tus peer: ${(error as Error).message}\n`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
    });
    break;
  }
  case 'bare': {
    port = await listen((req, res) => {
      const name = basename(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
      if (req.method !== 'PUT' || name === '' || name === '/') {
        res.statusCode = 405;
        res.end();
        req.resume();
        return;
      }
      pipeline(req, createWriteStream(join(dir, name))).then(
        () => {
          res.statusCode = 201;
          res.end();
        },
        (error: unknown) => {
          process.stderr.write(`bare peer: ${(error as Error).message}\n`);
          res.statusCode = 500;
          res.end();
        },
      );
    });
    break;
  }
  default:
    process.stderr.write(`upload-child.js: unknown server "${kind}"\n`);
    process.exit(2);
}
process.stdout.write(`${JSON.stringify({ port })}\n`);
