/**
 * Raw tus 1.0.0 requests with node:http (issue 12 tests): every request says exactly what it sends
 * and resolves with the status, the headers and the whole body, bounded in time.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { startServeCli } from './cli.js';
import { waitFor } from './wait.js';

export interface TusResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface TusRequestOptions {
  /** Header fields; a value of `undefined` leaves a default field out. */
  headers?: Record<string, string | undefined>;
  /** The bearer token (`Authorization: Bearer TOKEN`); null sends no Authorization. */
  token?: string | null;
  body?: Buffer;
  timeoutMs?: number;
}

/**
 * Sends `method path` to `origin` with `Tus-Resumable: 1.0.0` and the token unless told otherwise,
 * on a fresh connection, and reads the whole response.
 */
export function tusRequest(
  origin: string,
  method: string,
  path: string,
  options: TusRequestOptions = {},
): Promise<TusResponse> {
  const headers: Record<string, string> = {};
  const given: Record<string, string | undefined> = {
    'Tus-Resumable': '1.0.0',
    ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined ? { 'Content-Length': String(options.body.length) } : {}),
    ...options.headers,
  };
  for (const [name, value] of Object.entries(given)) if (value !== undefined) headers[name] = value;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`Cannot finish ${method} ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(options.body);
  });
}

/** An Upload-Metadata value: `key base64(value)` pairs (a value of '' sends the key alone). */
export function tusMetadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => (v === '' ? k : `${k} ${Buffer.from(v, 'utf8').toString('base64')}`))
    .join(',');
}

/** An Upload-Checksum value for `body`. */
export function tusChecksum(algorithm: 'sha1' | 'sha256' | 'md5', body: Buffer): string {
  return `${algorithm} ${createHash(algorithm).update(body).digest('base64')}`;
}

/** The path (with the mount prefix) of a Location answered to a creation. */
export function locationPath(origin: string, location: string | undefined): string {
  if (location === undefined) throw new Error('Cannot follow the upload: no Location');
  return new URL(location, `${origin}/.uploads/`).pathname;
}

/** POST to the endpoint; asserts nothing, returns the response (and the upload path if 201). */
export async function tusCreate(
  origin: string,
  token: string,
  headers: Record<string, string | undefined>,
  options: { endpoint?: string; body?: Buffer } = {},
): Promise<TusResponse & { path: string | undefined }> {
  const res = await tusRequest(origin, 'POST', options.endpoint ?? '/.uploads/', {
    token,
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const path = res.status === 201 ? locationPath(origin, res.headers.location) : undefined;
  return { ...res, path };
}

/** A PATCH of `body` at `offset` with the right Content-Type (and `extra` fields). */
export function tusPatch(
  origin: string,
  token: string | null,
  path: string,
  offset: number,
  body: Buffer,
  extra: Record<string, string | undefined> = {},
): Promise<TusResponse> {
  return tusRequest(origin, 'PATCH', path, {
    token,
    body,
    headers: {
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': String(offset),
      ...extra,
    },
  });
}

/** The names in DIR/.ranged-uploads/u (unfinished uploads), sorted; [] when there is none. */
export async function unfinishedIds(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, '.ranged-uploads', 'u'))).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Every path below `dir` (files and folders, relative, sorted), `.ranged-uploads` left out. */
export async function servedTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((p) => p !== '.ranged-uploads' && !p.startsWith('.ranged-uploads/')).sort();
}

/** `ranged serve DIR --uploads --upload-token TOKEN ...extra`, killed after the test. */
export async function serveUploads(
  t: { after(fn: () => unknown): void },
  dir: string,
  token: string,
  extra: string[] = [],
): Promise<string> {
  const { child, url } = await startServeCli(dir, ['--uploads', '--upload-token', token, ...extra]);
  t.after(() => child.kill('SIGKILL'));
  return url;
}

/**
 * Terminates the tus upload at `url` (DELETE) as an expiry would, behind its client's back. An
 * upload whose PATCH the server has not yet seen end (its client just stopped or was killed) is
 * still held by that PATCH: 409, asked again until the server lets it go. The final status.
 */
export async function terminateBehind(url: string, token: string): Promise<number> {
  return waitFor('the DELETE to be taken', async () => {
    const res = await fetch(url, {
      method: 'DELETE',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}` },
    });
    return res.status === 409 ? undefined : res.status;
  });
}
