/**
 * Raw tus 1.0.0 requests over node:http (a fresh connection each, no keep-alive), for tests that
 * must control exactly what goes on the wire: a PATCH body that is sent slowly, stalls, or is cut.
 */
import { stat } from 'node:fs/promises';
import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';

export interface TusResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request with `body` (or none) and reads the whole response. Bounded by `timeoutMs`. */
export function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Uint8Array,
  options: { timeoutMs?: number } = {},
): Promise<TusResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(
        new Error(
          `Cannot finish ${method} ${url}: no answer within ${options.timeoutMs ?? 30_000} ms`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

export function tusHeaders(
  token: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}`, ...extra };
}

/** The tus Upload-Metadata value for `filename`. */
export function filenameMetadata(name: string): string {
  return `filename ${Buffer.from(name).toString('base64')}`;
}

/** POST /.uploads/: creates an upload of `length` bytes for `filename`; resolves with its URL. */
export async function createUpload(
  origin: string,
  token: string,
  length: number,
  filename: string,
): Promise<{ url: string; id: string }> {
  const res = await send(
    `${origin}/.uploads/`,
    'POST',
    tusHeaders(token, {
      'Upload-Length': String(length),
      'Upload-Metadata': filenameMetadata(filename),
    }),
  );
  if (res.status !== 201 || typeof res.headers.location !== 'string') {
    throw new Error(`Cannot create an upload: ${res.status} ${res.body}`);
  }
  const url = new URL(res.headers.location, origin).href;
  return { url, id: url.slice(url.lastIndexOf('/') + 1) };
}

/** HEAD of an upload: its status and Upload-Offset (NaN when absent). */
export async function headUpload(
  url: string,
  token: string,
  options: { timeoutMs?: number } = {},
): Promise<{ status: number; offset: number; headers: IncomingHttpHeaders }> {
  const res = await send(url, 'HEAD', tusHeaders(token), undefined, options);
  const offset = res.headers['upload-offset'];
  return {
    status: res.status,
    offset: offset === undefined ? Number.NaN : Number(offset),
    headers: res.headers,
  };
}

/** A whole PATCH of `chunk` at `offset`. */
export function patchUpload(
  url: string,
  token: string,
  offset: number,
  chunk: Uint8Array,
  extra: Record<string, string> = {},
): Promise<TusResponse> {
  return send(
    url,
    'PATCH',
    tusHeaders(token, {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(chunk.length),
      ...extra,
    }),
    chunk,
  );
}

/** How a streamed PATCH ended: a response, or an error of the connection. */
export type Ending =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders }
  | { kind: 'error'; error: Error };

/** A PATCH whose body the test writes piece by piece (it declares `length` bytes). */
export interface StreamedPatch {
  req: ClientRequest;
  /** Writes `piece`; resolves once it was handed to the socket (after 'drain' if needed). */
  write(piece: Uint8Array): Promise<void>;
  /** Set once the request ended one way or the other. */
  ended(): Ending | undefined;
  /** Resolves with how it ended. */
  ending: Promise<Ending>;
  /** True once the connection's socket closed. */
  closed(): boolean;
}

export function streamPatch(
  url: string,
  token: string,
  offset: number,
  length: number,
  extra: Record<string, string> = {},
): StreamedPatch {
  const req = request(url, {
    method: 'PATCH',
    agent: false,
    headers: tusHeaders(token, {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(length),
      ...extra,
    }),
  });
  let end: Ending | undefined;
  let socketClosed = false;
  req.on('socket', (socket) => socket.on('close', () => (socketClosed = true)));
  const ending = new Promise<Ending>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      end ??= { kind: 'response', status: res.statusCode ?? 0, headers: res.headers };
      resolve(end);
    });
    req.on('error', (error) => {
      end ??= { kind: 'error', error };
      resolve(end);
    });
  });
  req.flushHeaders();
  return {
    req,
    write: (piece) =>
      new Promise<void>((resolve) => {
        if (end !== undefined || req.destroyed) return resolve();
        if (req.write(piece)) return resolve();
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      }),
    ended: () => end,
    ending,
    closed: () => socketClosed,
  };
}

/** The data file of upload `id` in the store of `dir`. */
export function dataPath(dir: string, id: string): string {
  return join(dir, '.ranged-uploads', 'u', id, 'data');
}

/** The size of a file, or -1 when it is not there. */
export async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => -1,
  );
}
