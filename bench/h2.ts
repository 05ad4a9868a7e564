/**
 * Load over HTTPS for the tls section: h2load (nghttp2-client) for small ranges over HTTP/2 when it
 * is installed, else a small node:http2 load generator; curl `--http2`/`--http1.1 -k` for single
 * big transfers, checking the protocol curl really used.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:http2';
import { run } from './procs.js';

export interface H2LoadOptions {
  /** HTTP/2 sessions (connections). */
  sessions: number;
  /** Concurrent streams per session. */
  streams: number;
  seconds: number;
  range: string;
  /** Body bytes each response must carry. */
  bodyBytes: number;
}

export interface H2LoadResult {
  requestsPerSec: number;
  requests: number;
  /** Failed, errored or non-2xx requests, and responses whose body was not `bodyBytes` long. */
  errors: number;
}

/**
 * Which HTTP/2 load generator runs: `h2load` when it is on PATH, else the Node one
 * (`BENCH_H2_LOADER=node` forces the Node one, to check it).
 */
export function h2Generator(): 'h2load' | 'node' {
  if (process.env.BENCH_H2_LOADER === 'node') return 'node';
  try {
    execFileSync('/bin/sh', ['-c', 'command -v h2load'], { stdio: 'ignore' });
    return 'h2load';
  } catch {
    return 'node';
  }
}

export function h2Load(url: string, options: H2LoadOptions): Promise<H2LoadResult> {
  return h2Generator() === 'h2load' ? h2loadRun(url, options) : nodeH2Load(url, options);
}

async function h2loadRun(url: string, options: H2LoadOptions): Promise<H2LoadResult> {
  const result = await run(
    'h2load',
    [
      ...['-t', '1', '-c', String(options.sessions), '-m', String(options.streams)],
      ...['-D', String(options.seconds), '-H', `range: ${options.range}`, url],
    ],
    { timeoutMs: (options.seconds + 30) * 1000 },
  );
  if (result.code !== 0) {
    throw new Error(`Cannot run h2load: exit ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return parseH2load(result.stdout, options.bodyBytes);
}

/** Parses h2load's summary; the `data` bytes divided by the requests must be the body length. */
export function parseH2load(text: string, bodyBytes: number): H2LoadResult {
  const rate = /^finished in [\d.]+\w+, ([\d.]+) req\/s/m.exec(text);
  const reqs =
    /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      text,
    );
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const traffic = /^traffic: .*\((\d+)\) data/m.exec(text);
  if (rate?.[1] === undefined || reqs === null || codes === null || traffic?.[1] === undefined) {
    throw new Error(`Cannot parse h2load output: ${text.slice(-800)}`);
  }
  const done = Number(reqs[2]);
  const succeeded = Number(reqs[3]);
  const non2xx = Number(codes[2]) + Number(codes[3]) + Number(codes[4]);
  // With -D, the status codes and data also count the streams still in flight at the end, so
  // the body check is per 2xx response, not per request done.
  const ok2xx = Number(codes[1]);
  const data = Number(traffic[1]);
  if (data !== ok2xx * bodyBytes) {
    throw new Error(
      `Cannot trust h2load: ${data} body bytes for ${ok2xx} 2xx responses, expected ${bodyBytes} each`,
    );
  }
  return {
    requestsPerSec: Number(rate[1]),
    requests: succeeded,
    errors: done - succeeded + Number(reqs[4]) + Number(reqs[5]) + Number(reqs[6]) + non2xx,
  };
}

/**
 * The fallback: `streams` concurrent streams on each of `sessions` sessions for `seconds`, counting
 * completed 206 responses whose body is `bodyBytes` long (anything else counts as an error).
 * It runs in this process, so it competes with the bench's own event loop; h2load is preferred.
 */
export async function nodeH2Load(url: string, options: H2LoadOptions): Promise<H2LoadResult> {
  const target = new URL(url);
  const path = `${target.pathname}${target.search}`;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const one = (session: ReturnType<typeof connect>) =>
    new Promise<void>((resolve) => {
      const stream = session.request({ ':path': path, range: options.range });
      let status = 0;
      let bytes = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.on('end', () => {
        if (status === 206 && bytes === options.bodyBytes) ok++;
        else errors++;
        resolve();
      });
      stream.on('error', () => {
        errors++;
        resolve();
      });
    });
  const sessions = Array.from({ length: options.sessions }, () =>
    connect(target.origin, { rejectUnauthorized: false }),
  );
  try {
    await Promise.all(
      sessions.flatMap((session) =>
        Array.from({ length: options.streams }, async () => {
          while (performance.now() < deadline && !session.destroyed) await one(session);
        }),
      ),
    );
  } finally {
    for (const session of sessions) session.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { requestsPerSec: ok / seconds, requests: ok, errors };
}

export interface HttpsCurlResult {
  status: number;
  body: number;
  /** Mean body rate, bytes/s. */
  speed: number;
  /** curl's `%{http_version}`: `2` or `1.1`. */
  httpVersion: string;
}

/** One GET over HTTPS with curl (`-k`: the certificate is self-signed), body to /dev/null. */
export async function curlHttps(
  url: string,
  protocol: '2' | '1.1',
  options: { range?: string; timeoutMs?: number } = {},
): Promise<HttpsCurlResult> {
  const args = ['-s', '-k', protocol === '2' ? '--http2' : '--http1.1', '-o', '/dev/null'];
  args.push('-w', '%{http_code} %{size_download} %{speed_download} %{http_version}');
  if (options.range !== undefined) args.push('-H', `Range: ${options.range}`);
  args.push(url);
  const result = await run('curl', args, { timeoutMs: options.timeoutMs ?? 120_000 });
  const [status, body, speed, httpVersion] = result.stdout.trim().split(' ');
  if (result.code !== 0 || httpVersion === undefined) {
    throw new Error(`Cannot GET ${url} with curl: exit ${result.code}: ${result.stderr}`);
  }
  if (httpVersion !== protocol) {
    throw new Error(`Cannot measure ${url} over HTTP/${protocol}: curl used HTTP/${httpVersion}`);
  }
  return { status: Number(status), body: Number(body), speed: Number(speed), httpVersion };
}
