/**
 * The Node ceiling of the s3 section, in a process of its own: `node s3-proxy-child.js ORIGIN`, a
 * bare node:http pass-through to the store that signs nothing and checks nothing. A GET (or
 * HEAD) of /BUCKET/KEY is sent on to ORIGIN/BUCKET/KEY with its Range header over a keep-alive
 * agent (as many sockets as ranged's S3 client may open), and the answer's status, length,
 * range, type and validators are passed back with its body piped (`pipe()`, Node's own
 * backpressure). What any Node server that relays an S3 store's bytes pays on this machine at
 * least: ranged also signs every request, plans the answer and checks the object's ETag.
 * Listens on 127.0.0.1, an ephemeral port, and prints `{"port":N}` once ready. It exits when its
 * stdin closes, so it never outlives a benchmark that was killed with SIGKILL.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const [origin] = process.argv.slice(2);
if (origin === undefined) {
  process.stderr.write('usage: s3-proxy-child.js ORIGIN\n');
  process.exit(2);
}

process.stdin.resume();
process.stdin.once('close', () => process.exit(0));
process.stdin.once('end', () => process.exit(0));

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const PASSED = ['content-length', 'content-range', 'content-type', 'etag', 'last-modified'];

const server = createServer((req, res) => {
  const range = req.headers.range;
  const upstream = request(`${origin}${req.url ?? '/'}`, {
    method: req.method === 'HEAD' ? 'HEAD' : 'GET',
    agent,
    headers: range === undefined ? {} : { range },
  });
  upstream.once('error', () => res.destroy());
  upstream.once('response', (answer) => {
    const headers: Record<string, string | string[]> = { 'accept-ranges': 'bytes' };
    for (const name of PASSED) {
      const value = answer.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    res.writeHead(answer.statusCode ?? 502, headers);
    answer.pipe(res);
    answer.once('error', () => res.destroy());
  });
  upstream.end();
});
// Same keep-alive policy as the other bench peers and ranged's startServer.
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
