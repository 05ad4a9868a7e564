/**
 * A benchmark server in its own process:
 * `node server-child.js <ranged|send|sirv> ROOT [MODULE] [--tls CERT_FILE KEY_FILE]`.
 * For `ranged`, MODULE is another build's `dist/src/server/server.js` to load instead of this one
 * (how BENCH_RANGED and BENCH_BASELINE compare two builds in one run); `--tls` serves ranged over
 * HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with that certificate and key (the tls section).
 * Listens on 127.0.0.1, an ephemeral port, and prints `{"port":N}` once ready. It exits when its
 * stdin closes, so it never outlives a benchmark that was killed with SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { startServer as StartServer } from '../src/server/server.js';

const argv = process.argv.slice(2);
const tlsAt = argv.indexOf('--tls');
const tlsFiles = tlsAt === -1 ? undefined : argv.splice(tlsAt, 3).slice(1);
const [kind, root, module] = argv;
if (root === undefined) {
  process.stderr.write('usage: server-child.js <ranged|send|sirv> ROOT\n');
  process.exit(2);
}

process.stdin.resume();
process.stdin.once('close', () => process.exit(0));
process.stdin.once('end', () => process.exit(0));

function listen(listener: RequestListener): Promise<number> {
  const server = createServer(listener);
  // Same keep-alive policy as ranged's startServer, so no peer pays for reconnections.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

let port: number;
switch (kind) {
  case 'ranged': {
    const { startServer } = (await import(
      module === undefined ? '../src/server/server.js' : pathToFileURL(module).href
    )) as { startServer: typeof StartServer };
    // Access log off: no `log` option.
    const [certFile, keyFile] = tlsFiles ?? [];
    const tls =
      certFile === undefined || keyFile === undefined
        ? undefined
        : { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    const running = await startServer({
      root,
      host: '127.0.0.1',
      port: 0,
      ...(tls === undefined ? {} : { tls }),
    });
    port = Number(new URL(running.url).port);
    break;
  }
  case 'send': {
    // Each library is loaded only in its own process, so no server's RSS includes another's code.
    const { default: send } = await import('send');
    port = await listen((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      send(req, path, { root })
        .on('error', (error: { status?: number }) => {
          res.statusCode = error.status ?? 500;
          res.end();
        })
        .pipe(res);
    });
    break;
  }
  case 'sirv': {
    const { default: sirv } = await import('sirv');
    const handler = sirv(root, { dev: false, etag: true });
    port = await listen((req, res) =>
      handler(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    );
    break;
  }
  default:
    process.stderr.write(`server-child.js: unknown server "${kind}"\n`);
    process.exit(2);
}
process.stdout.write(`${JSON.stringify({ port })}\n`);
