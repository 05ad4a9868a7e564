/**
 * Sends an exact HTTP/1.1 request over a raw socket and reads the whole response, so that paths
 * clients would normalise (`/../`, `%2e%2e`) reach the server as written.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  raw: Buffer;
}

/** Parses one HTTP/1.1 response with Content-Length (or none: reads to the end). */
export function parseResponse(raw: Buffer, method = 'GET'): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1)
    throw new Error(`Cannot parse response: no end of headers in ${raw.length} bytes`);
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  const length = headers['content-length'];
  if (method !== 'HEAD' && status !== 304 && length !== undefined)
    body = body.subarray(0, Number(length));
  if (method === 'HEAD' || status === 304) body = body.subarray(0, 0);
  return { status, headers, body, raw };
}

/**
 * Sends `request` (a full request head; `\r\n\r\n` appended when missing) with Connection: close
 * semantics and resolves with the parsed response. Bounded by `timeoutMs`.
 */
export function rawRequest(
  origin: string,
  request: string,
  options: { timeoutMs?: number; method?: string } = {},
): Promise<RawResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`Cannot finish raw request: no end after ${options.timeoutMs ?? 10_000} ms`),
      );
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks), options.method ?? request.split(' ')[0]));
      } catch (e) {
        reject(e);
      }
    });
    socket.write(request.endsWith('\r\n\r\n') ? request : `${request}\r\n\r\n`);
  });
}

/** A GET (or other method) for an exact path with extra header lines, Connection: close. */
export function rawGet(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawResponse> {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${new URL(origin).host}`,
    'Connection: close',
  ];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return rawRequest(origin, `${lines.join('\r\n')}\r\n\r\n`, { method });
}
