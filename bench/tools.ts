/**
 * Load generators and probes: wrk for request rates, curl for single transfers and for checking
 * what a server answers before it is measured.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './procs.js';

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  /** Bytes read per request, headers included (wrk's "read" total divided by requests). */
  bytesPerRequest: number;
  /** Non-2xx/3xx responses plus socket errors; a non-zero value makes the sample suspect. */
  errors: number;
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** Parses wrk's text report. Exported for a quick look in a REPL; throws on an unknown shape. */
export function parseWrk(text: string): WrkResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read/m.exec(text);
  if (rate?.[1] === undefined || total?.[1] === undefined || total[2] === undefined) {
    throw new Error(`Cannot parse wrk output: ${text.slice(0, 400)}`);
  }
  const requests = Number(total[1]);
  const bytes = Number(total[2]) * (UNITS[total[3] ?? 'B'] ?? 1);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSec: Number(rate[1]),
    requests,
    bytesPerRequest: requests > 0 ? bytes / requests : 0,
    errors: non2xx + socketErrors,
  };
}

/** Writes a wrk Lua script that sends one fixed Range header; returns its path. */
export async function wrkRangeScript(dir: string, name: string, range: string): Promise<string> {
  const path = join(dir, `${name}.lua`);
  await writeFile(path, `wrk.method = "GET"\nwrk.headers["Range"] = "${range}"\n`);
  return path;
}

export interface WrkOptions {
  script: string;
  connections: number;
  threads: number;
  seconds: number;
}

export async function wrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const result = await run(
    'wrk',
    [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--timeout',
      '10s',
      '-s',
      options.script,
      url,
    ],
    { timeoutMs: (options.seconds + 30) * 1000 },
  );
  if (result.code !== 0) throw new Error(`Cannot run wrk: exit ${result.code}: ${result.stderr}`);
  return parseWrk(result.stdout);
}

export interface CurlResult {
  status: number;
  /** Body bytes received. */
  body: number;
  /** Header bytes received (status line and fields). */
  header: number;
  /** Mean body rate over the transfer, bytes/s, as curl reports it. */
  speed: number;
}

/** One GET with curl, body to /dev/null (or `output`). */
export async function curl(
  url: string,
  options: { range?: string; output?: string; timeoutMs?: number } = {},
): Promise<CurlResult> {
  const args = ['-s', '-o', options.output ?? '/dev/null'];
  args.push('-w', '%{http_code} %{size_download} %{size_header} %{speed_download}');
  if (options.range !== undefined) args.push('-H', `Range: ${options.range}`);
  args.push(url);
  const result = await run('curl', args, { timeoutMs: options.timeoutMs ?? 120_000 });
  const [status, body, header, speed] = result.stdout.trim().split(' ').map(Number);
  if (result.code !== 0 || status === undefined || body === undefined) {
    throw new Error(`Cannot GET ${url} with curl: exit ${result.code}: ${result.stderr}`);
  }
  return { status, body, header: header ?? 0, speed: speed ?? 0 };
}
