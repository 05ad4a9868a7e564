/**
 * One request, three ways to the same server: HTTP/1.1 over TCP (a raw socket, so paths reach the
 * server as written), HTTP/1.1 over TLS (a raw TLS socket, ALPN http/1.1) and HTTP/2 over TLS
 * (node:http2, ALPN h2). Range tests run their table over each, so every behaviour is checked to
 * be identical over HTTP/2.
 */
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { ServerOptions } from '../../src/server/server.js';
import { listen } from './listen.js';
import { parseResponse, rawGet } from './raw-http.js';
import { testCertificate } from './tls.js';

export interface Exchange {
  status: number;
  /** Lower-case names; HTTP/2 pseudo-headers left out. */
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes received after the head: the body as framed (0 for HEAD and 304). */
  afterHead: number;
}

export type Send = (
  origin: string,
  path: string,
  headers?: Record<string, string>,
  method?: string,
) => Promise<Exchange>;

export interface Transport {
  name: 'http/1.1' | 'https/1.1' | 'h2';
  send: Send;
  /** Starts a ranged server this transport can reach (TLS for the last two). */
  listen(t: { after(fn: () => unknown): void }, options: ServerOptions): Promise<{ url: string }>;
}

function tlsOptions(): { tls: { cert: string; key: string } } {
  const cert = testCertificate();
  if (cert === undefined) throw new Error('Cannot make a test certificate: openssl is missing');
  return { tls: { cert: cert.cert, key: cert.key } };
}

/** HTTP/1.1 over TLS, written by hand like rawGet, with Connection: close. */
export function tlsRawGet(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Exchange> {
  const url = new URL(origin);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('Cannot finish TLS request: no end after 10000 ms'));
    }, 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        const raw = Buffer.concat(chunks);
        const res = parseResponse(raw, method);
        resolve({ ...res, afterHead: raw.length - raw.indexOf('\r\n\r\n') - 4 });
      } catch (e) {
        reject(e);
      }
    });
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** One request on a fresh HTTP/2 session (closed after the response). */
export function h2Get(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(origin, { rejectUnauthorized: false });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('Cannot finish HTTP/2 request: no end after 10000 ms'));
    }, 10_000);
    const fail = (e: unknown) => {
      clearTimeout(timer);
      session.destroy();
      reject(e);
    };
    session.on('error', fail);
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    const stream = session.request({ ':method': method, ':path': path, ...lower });
    stream.end();
    let status = 0;
    const got: Record<string, string> = {};
    stream.on('response', (h) => {
      status = Number(h[':status']);
      for (const [k, v] of Object.entries(h)) {
        if (!k.startsWith(':') && v !== undefined) got[k] = Array.isArray(v) ? v.join(', ') : v;
      }
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      const body = Buffer.concat(chunks);
      resolve({ status, headers: got, body, afterHead: body.length });
    });
  });
}

async function rawExchange(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Exchange> {
  const res = await rawGet(origin, path, headers, method);
  return { ...res, afterHead: res.raw.length - res.raw.indexOf('\r\n\r\n') - 4 };
}

export const TRANSPORTS: Transport[] = [
  { name: 'http/1.1', send: rawExchange, listen: (t, options) => listen(t, options) },
  {
    name: 'https/1.1',
    send: tlsRawGet,
    listen: (t, options) => listen(t, { ...options, ...tlsOptions() }),
  },
  { name: 'h2', send: h2Get, listen: (t, options) => listen(t, { ...options, ...tlsOptions() }) },
];

/** Fields RFC 9113 §8.2.2 forbids in HTTP/2 (a response carrying one is malformed). */
export const CONNECTION_SPECIFIC = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
];
