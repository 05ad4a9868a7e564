/**
 * Pieces of the upload section (bench/upload.ts): the servers it starts, the raw tus client it
 * sends with, curl -T for the bare ceiling, and an RSS sampler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { currentRss, recentPeakRss, resetPeakRss, run, sleep, track } from './procs.js';

export type UploadName = 'ranged' | 'tus-server' | 'bare';

/** A server under test, started in a child process of its own. */
export interface UploadServer {
  name: UploadName;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  pid: number | undefined;
  stop(): Promise<void>;
  /** What the child wrote on stderr, and its exit if it died. */
  trouble(): string;
}

const childScript = fileURLToPath(new URL('./upload-child.js', import.meta.url));

/**
 * Spawns `command args`, with a watchdog that kills it if this process dies without cleaning up
 * (as peers.ts does for nginx), and resolves with the first match of `pattern` on its stdout.
 * Rejects with the exit code and stderr if it exits first.
 */
async function startChild(
  name: UploadName,
  args: string[],
  pattern: RegExp,
): Promise<{ server: UploadServer; match: string }> {
  // stdin is a pipe: upload-child.js exits when it closes (ranged serve ignores it).
  const child = track(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const watchdog = track(
    spawn('/bin/sh', ['-c', `read _ignored; kill ${child.pid} 2>/dev/null`], {
      stdio: ['pipe', 'ignore', 'ignore'],
    }),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 100_000) stderr += s;
  });
  const trouble = () => {
    const died =
      child.exitCode !== null || child.signalCode !== null
        ? `exited with ${child.signalCode ?? child.exitCode}; `
        : '';
    return `${died}${stderr.trim()}`.trim();
  };
  const stop = async () => {
    watchdog.kill('SIGKILL');
    await stopChild(child);
  };
  try {
    const match = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new StartError(`Cannot start ${name}: nothing on stdout after 15 s`, null)),
        15_000,
      );
      child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const found = pattern.exec(out)?.[1];
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // Let the last stderr chunk arrive before reporting it.
        setImmediate(() =>
          reject(
            new StartError(
              `Cannot start ${name}: exited with ${signal ?? code}: ${stderr.trim()}`,
              code,
            ),
          ),
        );
      });
    });
    return { server: { name, origin: '', pid: child.pid, stop, trouble }, match };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A child that exited (or never answered) before it was ready; `code` is its exit code. */
export class StartError extends Error {
  readonly code: number | null;
  constructor(message: string, code: number | null) {
    super(message);
    this.code = code;
    this.name = 'StartError';
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

/** @tus/server with @tus/file-store (`tus`) or the bare node:http PUT server, into `dir`. */
export async function startPeer(name: 'tus-server' | 'bare', dir: string): Promise<UploadServer> {
  const kind = name === 'tus-server' ? 'tus' : 'bare';
  const { server, match } = await startChild(name, [childScript, kind, dir], /"port":(\d+)/);
  server.origin = `http://127.0.0.1:${match}`;
  return server;
}

/**
 * `ranged serve DIR --uploads --upload-token TOKEN --port 0 --quiet`. Throws a StartError with
 * code 2 when this build's CLI rejects the options (usage error: no upload support yet).
 */
export async function startRangedUploads(
  main: string,
  dir: string,
  token: string,
): Promise<UploadServer> {
  const args = [main, 'serve', dir, '--uploads', '--upload-token', token, '--port', '0', '--quiet'];
  const { server, match } = await startChild('ranged', args, /(http:\/\/127\.0\.0\.1:\d+)/);
  server.origin = match;
  return server;
}

export interface TusResult {
  /** From the creation POST to the last PATCH's response. */
  ms: number;
  patches: number;
  /** TCP connections the upload used (1 unless the server closed one). */
  connections: number;
  /** The upload's URL, as the server's Location header resolved against `endpoint`. */
  location: string;
}

/**
 * A raw tus 1.0.0 upload of `file` (`size` bytes) to `endpoint`: one creation POST, then PATCHes
 * of `chunk` bytes, each body streamed from the file (fs.createReadStream start/end, never the
 * whole file in memory), all over one keep-alive connection (an Agent with maxSockets 1).
 */
export async function tusUpload(
  endpoint: string,
  file: string,
  size: number,
  options: { chunk: number; filename: string; token?: string },
): Promise<TusResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const common: Record<string, string> = {
    'Tus-Resumable': '1.0.0',
    ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
  };
  const send = (
    url: string,
    method: string,
    headers: Record<string, string | number>,
    body?: { start: number; end: number },
  ) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
      (resolve, reject) => {
        const req = request(url, { method, agent, headers: { ...common, ...headers } });
        req.on('socket', (socket: Socket) => sockets.add(socket));
        req.once('error', reject);
        req.once('response', (res) => {
          res.resume();
          res.once('error', reject);
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        });
        if (body === undefined) {
          req.end();
        } else {
          const source = createReadStream(file, {
            start: body.start,
            end: body.end - 1,
            highWaterMark: 1024 * 1024,
          });
          pipeline(source, req).catch(reject);
        }
      },
    );
  try {
    const started = performance.now();
    const created = await send(endpoint, 'POST', {
      'Upload-Length': size,
      'Upload-Metadata': `filename ${Buffer.from(options.filename).toString('base64')}`,
      'Content-Length': 0,
    });
    const location = created.headers.location;
    if (created.status !== 201 || typeof location !== 'string') {
      throw new Error(
        `Cannot create an upload at ${endpoint}: expected 201 with a Location, got ${created.status}`,
      );
    }
    const url = new URL(location, endpoint).href;
    let offset = 0;
    let patches = 0;
    while (offset < size) {
      const end = Math.min(size, offset + options.chunk);
      const res = await send(
        url,
        'PATCH',
        {
          'Content-Type': 'application/offset+octet-stream',
          'Upload-Offset': offset,
          'Content-Length': end - offset,
        },
        { start: offset, end },
      );
      const reported = Number(res.headers['upload-offset']);
      if (res.status !== 204 || reported !== end) {
        throw new Error(
          `Cannot append bytes ${offset}-${end - 1} to ${url}: expected 204 with Upload-Offset ${end}, got ${res.status} with ${res.headers['upload-offset']}`,
        );
      }
      offset = end;
      patches++;
    }
    return { ms: performance.now() - started, patches, connections: sockets.size, location: url };
  } finally {
    agent.destroy();
  }
}

export interface CurlPutResult {
  status: number;
  bytes: number;
  /** curl's %{time_total}: connection to the last byte of the response. */
  seconds: number;
}

/** `curl -T FILE URL`: one PUT of the whole file over one connection. */
export async function curlPut(url: string, file: string): Promise<CurlPutResult> {
  const result = await run(
    'curl',
    ['-s', '-T', file, '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', url],
    { timeoutMs: 600_000 },
  );
  const [status, bytes, seconds] = result.stdout.trim().split(' ').map(Number);
  if (result.code !== 0 || status === undefined || bytes === undefined || seconds === undefined) {
    throw new Error(
      `Cannot PUT ${file} to ${url} with curl: exit ${result.code}: ${result.stderr}`,
    );
  }
  return { status, bytes, seconds };
}

/**
 * Samples a process's RSS every `everyMs` (VmRSS) while a run lasts, and also reads its VmHWM
 * (reset before the run through /proc/PID/clear_refs where the kernel allows it), so that a peak
 * between two samples is not missed. stop() returns the peak in bytes (NaN without /proc).
 */
export async function sampleRss(
  pid: number | undefined,
  everyMs = 50,
): Promise<{ stop(): Promise<number> }> {
  const reset = await resetPeakRss(pid);
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, (await currentRss(pid)) ?? 0);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      if (reset) peak = Math.max(peak, (await recentPeakRss(pid)) ?? 0);
      return peak === 0 ? Number.NaN : peak;
    },
  };
}
