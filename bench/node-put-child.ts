/**
 * The least a Node client can do for an upload, for the put section: one plain PUT of FILE with
 * node:http, `node node-put-child.js FILE URL TOKEN`. The body is read with readSync in 64 KiB
 * pieces into two reused buffers (a buffer is read into again once its last write completed), as
 * `ranged put` streams a PATCH: no protocol, no state, no retries, no progress. Timed from spawn
 * to exit like `ranged put`, it tells how much of ranged put's distance to curl is Node's own
 * (its start-up, and its socket writes) and how much is ranged's.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { request } from 'node:http';

const [file, url, token] = process.argv.slice(2);
if (file === undefined || url === undefined || token === undefined) {
  process.stderr.write('usage: node-put-child.js FILE URL TOKEN\n');
  process.exit(2);
}
const PIECE = 64 * 1024;
const size = statSync(file).size;
const fd = openSync(file, 'r');
const req = request(url, {
  method: 'PUT',
  headers: { 'Content-Length': String(size), Authorization: `Bearer ${token}` },
});
const answered = new Promise<number>((resolve, reject) => {
  req.on('error', reject);
  // An early answer and close: the write callbacks below would never come.
  req.on('close', () => {
    if (!req.writableFinished) {
      process.stderr.write(`PUT ${url}: the connection closed before the body was sent\n`);
      process.exit(1);
    }
  });
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
  });
});
const buffers = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
const writes: (Promise<void> | undefined)[] = [undefined, undefined];
for (let pos = 0, k = 0; pos < size; k++) {
  const i = k % 2;
  await writes[i];
  const buffer = buffers[i] as Buffer;
  const n = readSync(fd, buffer, 0, Math.min(PIECE, size - pos), pos);
  if (n === 0) throw new Error(`${file} ended at ${pos} bytes`);
  writes[i] = new Promise((resolve, reject) =>
    req.write(buffer.subarray(0, n), (error) => (error ? reject(error) : resolve())),
  );
  pos += n;
}
await Promise.all(writes);
closeSync(fd);
req.end();
const status = await answered;
if (status !== 201) {
  process.stderr.write(`PUT ${url}: ${status}\n`);
  process.exit(1);
}
