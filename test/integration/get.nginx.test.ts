/**
 * download() against a real nginx (Debian nginx-light), started here on 127.0.0.1 with a
 * temporary config. Skipped, with a message, only when /usr/sbin/nginx is absent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { download } from '../../src/client/download.js';
import { fixture } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';

const NGINX = '/usr/sbin/nginx';
const MiB = 1024 * 1024;
const skip = existsSync(NGINX) ? false : `${NGINX} is absent (apt-get install nginx-light)`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Nginx {
  base: string;
  www: string;
  dir: string;
}

async function startNginx(t: { after(fn: () => Promise<void>): void }): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-nginx-'));
  const www = join(dir, 'www');
  await mkdir(www);
  await mkdir(join(dir, 'tmp'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${www};
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', conf], {
    stdio: 'ignore',
  });
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  await waitFor('nginx accepting', () => accepting(port)).catch(async (error: Error) => {
    const log = await readFile(`${dir}/error.log`, 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${log}`, { cause: error });
  });
  return { base: `http://127.0.0.1:${port}`, www, dir };
}

test('download() fetches a file from nginx over 4 connections', { skip }, async (t) => {
  const nginx = await startNginx(t);
  const body = fixture(9 * MiB + 7);
  await writeFile(join(nginx.www, 'big.bin'), body);
  const out = join(nginx.dir, 'out.bin');
  const result = await download(`${nginx.base}/big.bin`, { output: out, connections: 4 }).done;
  assert.equal(result.size, body.length);
  assert.deepEqual(await readFile(out), body);
});

test('download() resumes from nginx after an abort', { skip }, async (t) => {
  const nginx = await startNginx(t);
  const body = fixture(6 * MiB);
  await writeFile(join(nginx.www, 'big.bin'), body);
  const out = join(nginx.dir, 'out.bin');
  const url = `${nginx.base}/big.bin`;
  const controller = new AbortController();
  const first = download(url, {
    output: out,
    connections: 2,
    limitRate: 4 * MiB,
    saveInterval: 50,
    signal: controller.signal,
    progressInterval: 10,
    onProgress: (p) => {
      if (p.bytes >= 2 * MiB) controller.abort();
    },
  });
  await assert.rejects(first.done, { code: 'ERR_ABORTED' });
  const result = await download(url, { output: out, connections: 2 }).done;
  assert.ok(result.resumedBytes >= 2 * MiB, `resumed ${result.resumedBytes}`);
  assert.equal(result.restarts, 0);
  assert.equal(result.fetchedBytes, body.length - result.resumedBytes);
  assert.deepEqual(await readFile(out), body);
});

test('download() restarts when the file on nginx changed between runs', { skip }, async (t) => {
  const nginx = await startNginx(t);
  const body = fixture(6 * MiB);
  const next = fixture(6 * MiB, 5);
  const path = join(nginx.www, 'big.bin');
  await writeFile(path, body);
  await utimes(path, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
  const out = join(nginx.dir, 'out.bin');
  const url = `${nginx.base}/big.bin`;
  const controller = new AbortController();
  const first = download(url, {
    output: out,
    limitRate: 4 * MiB,
    saveInterval: 50,
    signal: controller.signal,
    progressInterval: 10,
    onProgress: (p) => {
      if (p.bytes >= MiB) controller.abort();
    },
  });
  await assert.rejects(first.done, { code: 'ERR_ABORTED' });
  // Same size, new content and mtime: nginx's ETag ("mtime-size") changes.
  await writeFile(path, next);
  await utimes(path, new Date('2024-02-01T00:00:00Z'), new Date('2024-02-01T00:00:00Z'));
  const notices: string[] = [];
  const result = await download(url, { output: out, onNotice: (m) => notices.push(m) }).done;
  assert.equal(result.restarts, 1);
  assert.ok(
    notices.some((m) => /changed/.test(m)),
    notices.join('\n'),
  );
  assert.deepEqual(await readFile(out), next);
});
