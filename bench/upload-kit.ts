/**
 * Pieces of the upload section (bench/upload.ts): the servers it starts, the raw client (curl:
 * the tus PATCHes in one invocation, one PUT for the bare ceiling; a node:http request for the
 * tus creation POST only), and an RSS sampler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
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
  env?: NodeJS.ProcessEnv,
): Promise<{ server: UploadServer; match: string }> {
  // stdin is a pipe: upload-child.js exits when it closes (ranged serve ignores it).
  const child = track(
    spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(env === undefined ? {} : { env }),
    }),
  );
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
  return startRangedServe(main, [dir, '--uploads', '--upload-token', token]);
}

/**
 * `ranged serve ARGS --port 0 --quiet` with `env` (default: this process's), e.g. an s3:// source
 * with the AWS variables. Throws a StartError with the exit code if it exits before it is ready.
 */
export async function startRangedServe(
  main: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<UploadServer> {
  const argv = [main, 'serve', ...args, '--port', '0', '--quiet'];
  const { server, match } = await startChild('ranged', argv, /(http:\/\/127\.0\.0\.1:\d+)/, env);
  server.origin = match;
  return server;
}

/**
 * The tus creation POST (`Upload-Length`, `filename` metadata), one node:http request on a
 * connection of its own, outside the timed part. Returns the upload's URL, the Location header
 * resolved against `endpoint`.
 */
export function tusCreate(
  endpoint: string,
  size: number,
  filename: string,
  token: string | undefined,
): Promise<string> {
  const headers: Record<string, string | number> = {
    'Tus-Resumable': '1.0.0',
    'Upload-Length': size,
    'Upload-Metadata': `filename ${Buffer.from(filename).toString('base64')}`,
    'Content-Length': 0,
    ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
  };
  return new Promise((resolve, reject) => {
    const req = request(endpoint, { method: 'POST', headers, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      res.once('error', reject);
      res.once('end', () => {
        const location = res.headers.location;
        if (res.statusCode !== 201 || typeof location !== 'string') {
          reject(
            new Error(
              `Cannot create an upload at ${endpoint}: expected 201 with a Location, got ${res.statusCode}`,
            ),
          );
        } else {
          resolve(new URL(location, endpoint).href);
        }
      });
    });
    req.end();
  });
}

/**
 * Splits `file` into files of `chunk` bytes (the last one shorter) in `dir`, synced so that their
 * write-back is not paid during a timed run. Returns their paths, in order.
 */
export async function splitFile(file: string, dir: string, chunk: number): Promise<string[]> {
  const source = await open(file, 'r');
  const buffer = Buffer.allocUnsafe(chunk);
  const paths: string[] = [];
  try {
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, chunk, null);
      if (bytesRead === 0) break;
      const path = join(dir, `${basename(file)}.${String(paths.length).padStart(4, '0')}`);
      const out = await open(path, 'w');
      try {
        await out.write(buffer, 0, bytesRead, 0);
        await out.sync();
      } finally {
        await out.close();
      }
      paths.push(path);
    }
  } finally {
    await source.close();
  }
  return paths;
}

/** A double-quoted string of a curl config file. */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface CurlPatchResult {
  /** The sum of the PATCHes' %{time_total}: the first PATCH's start to the last one's 204. */
  ms: number;
  /** Wall time of the curl process (spawn to exit), for the record. */
  wallMs: number;
  patches: number;
  /** The sum of %{num_connects} over the PATCHes: 1 when they all went over one connection. */
  connections: number;
}

/**
 * Every PATCH of a tus upload in one curl invocation: the `chunks` files (made by splitFile), one
 * `--next` request group each, from a config file (`curl -K`), so curl reuses one connection for
 * them all. `Expect:` is emptied so that no request waits for a 100 Continue. Each response must
 * be 204 with `Upload-Offset` at the chunk's end.
 */
export async function curlPatches(
  url: string,
  chunks: readonly string[],
  options: { configFile: string; token?: string },
): Promise<CurlPatchResult> {
  const ends: number[] = [];
  let offset = 0;
  const groups: string[] = [];
  for (const chunk of chunks) {
    const lines = [
      `url = ${quoted(url)}`,
      'request = "PATCH"',
      `upload-file = ${quoted(chunk)}`,
      'header = "Tus-Resumable: 1.0.0"',
      'header = "Content-Type: application/offset+octet-stream"',
      `header = "Upload-Offset: ${offset}"`,
      ...(options.token === undefined
        ? []
        : [`header = ${quoted(`Authorization: Bearer ${options.token}`)}`]),
      'header = "Expect:"',
      'output = "/dev/null"',
      'write-out = "%{http_code} %{num_connects} %{size_upload} %{time_total} %header{upload-offset}\\n"',
      'silent',
      'show-error',
      'fail-with-body',
    ];
    groups.push(lines.join('\n'));
    offset += (await stat(chunk)).size;
    ends.push(offset);
  }
  await writeFile(options.configFile, `${groups.join('\nnext\n')}\n`);
  const result = await run('curl', ['-K', options.configFile], { timeoutMs: 600_000 });
  const rows = result.stdout.trim().split('\n');
  const fail = (why: string) =>
    new Error(
      `Cannot PATCH ${url} with curl: ${why} (exit ${result.code}, ${result.stderr.trim()})`,
    );
  if (result.code !== 0) throw fail('curl failed');
  if (rows.length !== chunks.length) throw fail(`${rows.length} responses to ${chunks.length}`);
  let seconds = 0;
  let connections = 0;
  let start = 0;
  rows.forEach((row, i) => {
    const [status, connects, sent, total, reported] = row.split(' ');
    const end = ends[i] ?? Number.NaN;
    if (status !== '204' || Number(sent) !== end - start || Number(reported) !== end) {
      throw fail(
        `PATCH ${i + 1} of bytes ${start}-${end - 1}: expected 204 after ${end - start} bytes with Upload-Offset ${end}, got ${status} after ${sent} with ${reported}`,
      );
    }
    seconds += Number(total);
    connections += Number(connects);
    start = end;
  });
  return { ms: seconds * 1000, wallMs: result.ms, patches: rows.length, connections };
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
