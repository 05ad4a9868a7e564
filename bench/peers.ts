/**
 * The servers under test, each in its own process: ranged, send and sirv through server-child.js,
 * and nginx from a temporary config.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, track, waitForPort } from './procs.js';

export type ServerName = 'ranged' | 'send' | 'sirv' | 'nginx' | 'baseline';

export interface RunningPeer {
  name: ServerName;
  /** `http://127.0.0.1:PORT` (`https://` for a peer started with a certificate) */
  origin: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** URL path prefix under which nginx serves the same files at `THROTTLED_RATE` per response. */
export const THROTTLED_PREFIX = '/throttled';
/** nginx `limit_rate 4m`: 4 MiB/s per response (nginx's `m` is 1024 * 1024). */
export const THROTTLED_RATE = 4 * 1024 ** 2;

const childScript = fileURLToPath(new URL('./server-child.js', import.meta.url));

/**
 * Starts ranged, send or sirv in a child process serving `root`. `module` loads ranged from another
 * build's `server.js`; `baseline` is always such a build.
 */
export async function startNodePeer(
  name: Exclude<ServerName, 'nginx'>,
  root: string,
  module?: string,
  tls?: TlsFiles,
): Promise<RunningPeer> {
  const kind = name === 'baseline' ? 'ranged' : name;
  const args = [
    childScript,
    kind,
    root,
    ...(module === undefined ? [] : [module]),
    ...(tls === undefined ? [] : ['--tls', tls.cert, tls.key]),
  ];
  const child = track(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
  const port = await readPort(child, name);
  const scheme = tls === undefined ? 'http' : 'https';
  return { name, origin: `${scheme}://127.0.0.1:${port}`, pid: child.pid, stop: () => stop(child) };
}

/** PEM files of a certificate and its key (the tls section's self-signed pair). */
export interface TlsFiles {
  cert: string;
  key: string;
}

async function readPort(child: ChildProcess, name: string): Promise<number> {
  const stdout = child.stdout;
  if (stdout === null) throw new Error(`Cannot start ${name}: no stdout`);
  stdout.setEncoding('utf8');
  let text = '';
  const timeout = sleep(15_000).then(() => {
    throw new Error(`Cannot start ${name}: no port after 15 s`);
  });
  const ready = new Promise<number>((resolve, reject) => {
    stdout.on('data', (chunk: string) => {
      text += chunk;
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined)
        resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`Cannot start ${name}: exited with ${code}`)));
  });
  return Promise.race([ready, timeout]);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/**
 * nginx with one worker and no master (`daemon off; master_process off; worker_processes 1;`):
 * one core, like a Node process, on a 2-core machine where the load generator needs the other.
 * sendfile on, access_log off, keepalive_requests raised so that, like Node, it never closes a
 * busy keep-alive connection (its default of 1000 would add reconnections to its numbers).
 * The same files are also served below `THROTTLED_PREFIX`, each response (so each connection at a
 * time) held to `THROTTLED_RATE` bytes/s by `limit_rate`: a slow origin for the throttle section.
 * `autoindex` lists folders (the hostile section's peer for a folder of 100,000 entries).
 * `tls` makes it `listen … ssl http2` with that certificate (nginx 1.22 syntax; HTTP/2 and
 * HTTP/1.1 by ALPN), everything else the same: the tls section's peer.
 */
export async function startNginx(
  root: string,
  workDir: string,
  options: { autoindex?: boolean; tls?: TlsFiles } = {},
): Promise<RunningPeer> {
  await mkdir(workDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(workDir, 'nginx.conf');
    const t = (name: string) => join(workDir, name);
    await writeFile(
      conf,
      `daemon off;
master_process off;
worker_processes 1;
pid ${t('nginx.pid')};
error_log ${t('error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 5s;
  default_type application/octet-stream;
  client_body_temp_path ${t('client_body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  server {
    listen 127.0.0.1:${port}${options.tls === undefined ? '' : ' ssl http2'};
${options.tls === undefined ? '' : `    ssl_certificate ${options.tls.cert};\n    ssl_certificate_key ${options.tls.key};\n`}    root ${root};
${options.autoindex ? '    autoindex on;\n' : ''}    location ${THROTTLED_PREFIX}/ {
      alias ${root}/;
      limit_rate ${THROTTLED_RATE / 1024 ** 2}m;
    }
  }
}
`,
    );
    const child = track(
      spawn('/usr/sbin/nginx', ['-p', workDir, '-e', t('error.log'), '-c', conf], {
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    // nginx does not watch its parent: a watchdog kills it when our end of its stdin pipe closes,
    // which also happens when this process is killed with SIGKILL and no cleanup code runs.
    track(
      spawn('/bin/sh', ['-c', `read _ignored; kill ${child.pid} 2>/dev/null`], {
        stdio: ['pipe', 'ignore', 'ignore'],
      }),
    );
    try {
      await Promise.race([
        waitForPort(port, 10_000),
        once(child, 'exit').then(([code]) => {
          throw new Error(`Cannot start nginx: exited with ${code}`);
        }),
      ]);
      return {
        name: 'nginx',
        origin: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
        pid: child.pid,
        stop: () => stop(child),
      };
    } catch (error) {
      lastError = error; // most likely the port was taken between freePort() and bind
      await stop(child);
    }
  }
  throw lastError;
}
