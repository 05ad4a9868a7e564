/**
 * An origin that writes its responses by hand over node:net, for bodies node:http would frame
 * differently: a 200 without any length (chunked, or delimited by the close) that streams until
 * the client hangs up, and a 200 that declares a Content-Length and holds the body back until the
 * client hangs up. Every wait is bounded: the stream ends after `limit` bytes, a held body is sent
 * after `holdMs`. It counts the body bytes it writes and says who ended each response.
 */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { fixture } from './origin.js';

export interface StreamOriginOptions {
  /**
   * `chunked`: Transfer-Encoding: chunked; `close`: no length, the body ends with the connection
   * (RFC 9112 §6.3 rule 8); `length`: Content-Length `length`, held back (see `holdMs`).
   */
  framing: 'chunked' | 'close' | 'length';
  /** Body bytes sent at most; then the body ends (with `length`, short if `length` is more). */
  limit: number;
  /** With `length`: the Content-Length declared. */
  length?: number;
  /** With `length`: how long the body waits for the client to hang up before it is sent. */
  holdMs?: number;
}

export interface StreamResponse {
  /** Body bytes written to the socket. */
  sent: number;
  /** `client`: the client closed the connection first; `origin`: the body was sent in full. */
  endedBy: 'client' | 'origin' | undefined;
  /** Settles when the response has ended, either way. */
  ended: Promise<void>;
}

export interface StreamOrigin {
  url: string;
  responses: StreamResponse[];
  close(): Promise<void>;
}

const BLOCK = fixture(64 * 1024);

export async function startStreamOrigin(options: StreamOriginOptions): Promise<StreamOrigin> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (data: Buffer): void => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const response: StreamResponse = { sent: 0, endedBy: undefined, ended: Promise.resolve() };
      origin.responses.push(response);
      response.ended = respond(socket, response, options);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin: StreamOrigin = {
    url: `http://127.0.0.1:${port}/file.bin`,
    responses: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  return origin;
}

async function respond(
  socket: net.Socket,
  response: StreamResponse,
  options: StreamOriginOptions,
): Promise<void> {
  // Not events.once(): it rejects on 'error' (a reset is expected here), unhandled after a race.
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
  const fields =
    options.framing === 'chunked'
      ? 'Transfer-Encoding: chunked\r\n'
      : options.framing === 'close'
        ? 'Connection: close\r\n'
        : `Content-Length: ${options.length ?? 0}\r\n`;
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n${fields}\r\n`);
  let total = options.limit;
  if (options.framing === 'length') {
    total = Math.min(total, options.length ?? 0);
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<'held'>((resolve) => {
      timer = setTimeout(() => resolve('held'), options.holdMs ?? 10_000);
    });
    const first = await Promise.race([closed, held]);
    clearTimeout(timer);
    if (first === 'closed') {
      response.endedBy = 'client';
      return;
    }
  }
  const chunked = options.framing === 'chunked';
  const frame = (block: Buffer): Buffer =>
    chunked
      ? Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')])
      : block;
  while (response.sent < total) {
    if (socket.destroyed) {
      response.endedBy = 'client';
      return;
    }
    const block = BLOCK.subarray(0, Math.min(BLOCK.length, total - response.sent));
    response.sent += block.length;
    if (!socket.write(frame(block))) {
      const drained = new Promise<'drain'>((resolve) =>
        socket.once('drain', () => resolve('drain')),
      );
      if ((await Promise.race([drained, closed])) === 'closed') {
        response.endedBy = 'client';
        return;
      }
    }
  }
  response.endedBy = 'origin';
  socket.end(chunked ? '0\r\n\r\n' : '');
}
