/**
 * Verdicts on raw HTTP/1.1 responses from real clients, for the differential test of the
 * response reader (test/integration/get.http1-llhttp.test.ts): a loopback server that answers
 * `GET /i` with the i-th bytes and closes, and what node:http (llhttp) and openHttp1() make of them.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { openHttp1 } from '../../src/client/transport/http1.js';

/** Rejected (with a reason), or accepted with what was read. */
export type Verdict =
  | { kind: 'reject'; reason: string }
  | {
      kind: 'accept';
      status: number;
      statusMessage: string;
      headers: Record<string, string>;
      body: string;
    };

/** A loopback server that answers `GET /i` with wires[i] and closes. */
export async function wireServer(
  t: { after(fn: () => Promise<void>): void },
  wires: Buffer[],
): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let request = '';
    socket.on('data', (d: Buffer) => {
      request += d.toString('latin1');
      const m = /^GET \/(\d+) /.exec(request);
      if (m !== null && request.includes('\r\n\r\n'))
        socket.end(wires[Number(m[1])] ?? Buffer.alloc(0));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.close();
    await once(server, 'close');
  });
  return (server.address() as net.AddressInfo).port;
}

/** llhttp's verdict, through node:http (as strict as Node is by default). */
export function llhttp(port: number, index: number): Promise<Verdict> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: Verdict): void => {
      if (!settled) resolve(v);
      settled = true;
    };
    const req = http.get(
      { host: '127.0.0.1', port, path: `/${index}`, agent: false, maxHeaderSize: 64 * 1024 },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('aborted', () => settle({ kind: 'reject', reason: 'aborted' }));
        res.on('error', (e) => settle({ kind: 'reject', reason: e.message }));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = (res.rawHeaders[i] as string).toLowerCase();
            const value = res.rawHeaders[i + 1] as string;
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
          }
          settle({
            kind: 'accept',
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? '',
            headers,
            body: Buffer.concat(parts).toString('latin1'),
          });
        });
      },
    );
    req.on('error', (e) => settle({ kind: 'reject', reason: e.message }));
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
  });
}

/** openHttp1()'s verdict over a socket, with small buffers so that they take turns. */
export async function shell(port: number, index: number): Promise<Verdict> {
  try {
    const res = await openHttp1(new URL(`http://127.0.0.1:${port}/${index}`), {
      headers: {},
      signal: new AbortController().signal,
      timeout: 5_000,
      bufferSize: 64,
    });
    const parts: Buffer[] = [];
    await res.body.read(
      async (chunk) => {
        parts.push(Buffer.from(chunk));
        await Promise.resolve();
        return true;
      },
      { stallTimeout: 5_000 },
    );
    const { status, statusMessage, headers } = res;
    const body = Buffer.concat(parts).toString('latin1');
    return { kind: 'accept', status, statusMessage, headers, body };
  } catch (error) {
    return { kind: 'reject', reason: (error as Error).message };
  }
}

/** Runs f(0..count-1), `width` at a time; results in order. */
export async function inParallel<T>(count: number, width: number, f: (i: number) => Promise<T>) {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await f(i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}
