/**
 * startServer(): a node:http server around createHandler(), with timeouts against slow clients,
 * an access log and a graceful close.
 */
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../errors.js';
import { createHandler, type HandlerOptions } from './handler.js';

export interface ServerOptions extends HandlerOptions {
  /** Folder to serve. @default '.' */
  root?: string;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Called with one line per finished request (method, path, status, bytes, ms). @default none */
  log?: (line: string) => void;
  /** Time allowed to receive the request headers, in ms. @default 20_000 */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, in ms. @default 30_000 */
  requestTimeout?: number;
  /** A connection with no traffic either way for this long is closed, in ms. @default 120_000 */
  idleTimeout?: number;
  /**
   * A response whose client takes none of the bytes waiting for it for this long is cut, in ms
   * (nginx's send_timeout). @default 30_000
   */
  sendTimeout?: number;
  /**
   * Most connections open at once; a connection past it is closed at once, before a byte is read,
   * so the connections already open keep their share of the server. @default 1024
   */
  maxConnections?: number;
  /** How long close() lets in-flight responses finish before cutting them, in ms. @default 10_000 */
  closeGrace?: number;
  /** Clock for the access log's durations. @default performance.now */
  now?: () => number;
}

export interface RunningServer {
  server: Server;
  /** `http://HOST:PORT`, with the real port. */
  url: string;
  /** Stops accepting, lets in-flight responses finish (bounded by closeGrace), then resolves. */
  close(): Promise<void>;
}

/** What the send timeout knows of a connection. */
interface Sending {
  /** Responses in flight. */
  responses: number;
  /** Bytes waiting and bytes written when last looked at; '' when nothing was waiting. */
  mark: string;
  /** When `mark` last changed. */
  since: number;
}

/** Bytes libuv still holds for the socket (its write queue); 0 where Node does not say. */
function writeQueueSize(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle;
  return typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
}

/** Escapes control characters and spaces so a hostile request-target cannot forge log lines. */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\x00-\x20\x7f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
}

/** Formats `http://HOST:PORT`, bracketing IPv6 addresses. */
export function formatOrigin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const root = options.root ?? '.';
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Cannot listen: port must be an integer from 0 to 65535, got ${port}`);
  }
  const rootStats = await stat(root).catch((cause: unknown) => {
    throw new UsageError(`Cannot serve "${root}": no such folder`, { cause });
  });
  if (!rootStats.isDirectory()) throw new UsageError(`Cannot serve "${root}": not a folder`);

  const handler = createHandler(root, options);
  const now = options.now ?? (() => performance.now());
  const log = options.log;
  const headersTimeout = options.headersTimeout ?? 20_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: options.requestTimeout ?? 30_000,
      // Node checks both timeouts only every connectionsCheckingInterval (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    (req, res) => {
      track(req.socket, res);
      if (log) {
        const started = now();
        const socket = req.socket;
        const before = socket.bytesWritten;
        res.once('close', () => {
          const bytes = socket.bytesWritten - before;
          const status = res.writableFinished
            ? String(res.statusCode)
            : `${res.statusCode}(aborted)`;
          log(
            `${req.method} ${printable(req.url ?? '')} ${status} ${bytes} ${Math.round(now() - started)}ms`,
          );
        });
      }
      handler(req, res);
    },
  );
  server.maxConnections = options.maxConnections ?? 1024;
  // Responses in flight per connection. Node's own closeIdleConnections() (which server.close()
  // calls) destroys a connection as soon as res.end() was called, even while the end of a big body
  // is still queued in user space; a connection here is idle only once its responses are flushed.
  const inFlight = new Map<Socket, Sending>();
  let stopping = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, { responses: 0, mark: '', since: 0 });
    socket.once('close', () => inFlight.delete(socket));
  });
  function track(socket: Socket, res: ServerResponse) {
    const sending = inFlight.get(socket);
    if (sending !== undefined) sending.responses++;
    res.once('close', () => {
      const left = sending === undefined ? 0 : --sending.responses;
      if (stopping && left === 0) socket.destroy();
    });
  }
  server.closeIdleConnections = () => {
    for (const [socket, sending] of inFlight) if (sending.responses === 0) socket.destroy();
  };
  // The send timeout: a connection with bytes waiting for its client and no byte taken by the
  // client's side (the kernel) for sendTimeout is cut. Progress is seen in libuv's write queue,
  // which shrinks as the kernel takes bytes, so a slow reader is never mistaken for a dead one.
  const sendTimeout = options.sendTimeout ?? 30_000;
  const watchdog = setInterval(
    () => {
      const at = now();
      for (const [socket, sending] of inFlight) {
        const waiting = socket.writableLength + writeQueueSize(socket);
        if (sending.responses === 0 || waiting === 0) {
          sending.mark = '';
          continue;
        }
        const mark = `${waiting}:${socket.bytesWritten}`;
        if (mark !== sending.mark) {
          sending.mark = mark;
          sending.since = at;
        } else if (at - sending.since >= sendTimeout) {
          socket.destroy();
        }
      }
    },
    Math.max(10, Math.min(1_000, sendTimeout / 4)),
  );
  watchdog.unref();
  server.once('close', () => clearInterval(watchdog));
  server.keepAliveTimeout = 5_000;
  server.setTimeout(options.idleTimeout ?? 120_000, (socket) => socket.destroy());

  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw error;
      }),
    ]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${host}:${port}`;
    if (code === 'EADDRINUSE')
      throw new UsageError(`Cannot listen on ${where}: address already in use`, { cause: error });
    if (code === 'EACCES')
      throw new UsageError(`Cannot listen on ${where}: permission denied`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new UsageError(`Cannot listen on ${where}: address not available`, { cause: error });
    }
    throw error;
  }
  const address = server.address() as AddressInfo;
  const closeGrace = options.closeGrace ?? 10_000;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopping = true; // from now on a connection closes when its last response is flushed
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const timer = setTimeout(() => server.closeAllConnections(), closeGrace);
      await closed;
      clearTimeout(timer);
      handler.close();
    })();
    return closing;
  };
  return { server, url: formatOrigin(host, address.port), close };
}
