/**
 * startServer(): a node:http server around createHandler() (or, with `tls`, a node:http2 secure
 * server speaking HTTP/2 and HTTP/1.1), with timeouts against slow clients, an access log and a
 * graceful close.
 */
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createServer, Server as HttpServer, type IncomingMessage, type Server } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isS3Url } from '../core/s3-location.js';
import { UsageError } from '../errors.js';
import { expectContinue, isHttp2, type Request, type Response } from './exchange.js';
import { H1Connections } from './h1-connections.js';
import { H2Sessions } from './h2-sessions.js';
import { createHandler, type HandlerOptions } from './handler.js';
import type { Source } from './sources/source.js';
import { createTlsServer, type TlsOptions } from './tls.js';

/** How long close() lets in-flight responses finish by default, in ms. */
export const CLOSE_GRACE_MS = 10_000;

export interface ServerOptions extends HandlerOptions {
  /**
   * Folder to serve, or an S3 bucket as `s3://BUCKET[/PREFIX]` (credentials and region from the
   * AWS_* variables; see `s3Endpoint`). @default '.'
   */
  root?: string;
  /**
   * The S3 store's URL for an `s3://` root (Ceph RGW, MinIO, …), addressed path-style; wins over
   * AWS_ENDPOINT_URL. @default AWS_ENDPOINT_URL, else AWS itself
   */
  s3Endpoint?: string;
  /**
   * For an `s3://` root: the longest wait for the store's answer, in ms; then the request is
   * answered 504 with Retry-After. @default 10_000
   */
  s3Timeout?: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Called with one line per finished request (method, path, status, bytes, ms). @default none */
  log?: (line: string) => void;
  /** Time allowed to receive the request headers, in ms. @default 20_000 */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, in ms. @default 30_000 (0, none, with `uploads`) */
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
  /**
   * Serve HTTPS: HTTP/2 and HTTP/1.1 on the same port, chosen by ALPN. PEM texts or buffers.
   * @default none (plain HTTP/1.1)
   */
  tls?: TlsOptions;
  /** HTTP/2 streams open at once in one session (SETTINGS_MAX_CONCURRENT_STREAMS). @default 100 */
  maxStreams?: number;
  /**
   * HTTP/2 requests in progress at once across every session; one past it is answered 503 with
   * `Retry-After: 1` at once. Each stream can hold a chunk for a client that stops reading, so this
   * bounds the server's memory as `maxConnections` does for HTTP/1.1. @default maxConnections
   */
  maxStreamsTotal?: number;
  /** How long close() lets in-flight responses finish before cutting them, in ms. @default 10_000 */
  closeGrace?: number;
  /** Clock for the access log's durations. @default performance.now */
  now?: () => number;
}

export interface RunningServer {
  /** The node:http server, or the node:http2 secure server (HTTP/2 and HTTP/1.1) with `tls`. */
  server: Server | Http2SecureServer;
  /** `http://HOST:PORT` (`https://` with `tls`), with the real port. */
  url: string;
  /** Stops accepting, lets in-flight responses finish (bounded by closeGrace), then resolves. */
  close(): Promise<void>;
  /** Cuts every connection at once (a second Ctrl-C). */
  closeAllConnections(): void;
}

/** Escapes control characters and spaces so a hostile request-target cannot forge log lines. */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\x00-\x20\x7f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
}

/** Formats `http://HOST:PORT` (or `https://`), bracketing IPv6 addresses. */
export function formatOrigin(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const root = options.root ?? '.';
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Cannot listen: port must be an integer from 0 to 65535, got ${port}`);
  }
  let source: string | Source = root;
  if (isS3Url(root)) {
    source = await openS3(root, options);
  } else {
    const rootStats = await stat(root).catch((cause: unknown) => {
      throw new UsageError(`Cannot serve "${root}": no such folder`, { cause });
    });
    if (!rootStats.isDirectory()) throw new UsageError(`Cannot serve "${root}": not a folder`);
  }

  const handler = createHandler(source, options);
  const now = options.now ?? (() => performance.now());
  const log = options.log;
  const headersTimeout = options.headersTimeout ?? 20_000;
  // An upload body may take hours: with uploads on, the upload code's minimum speed bounds it.
  const requestTimeout = options.requestTimeout ?? (options.uploads === undefined ? 30_000 : 0);
  const idleTimeout = options.idleTimeout ?? 120_000;
  const connections = new H1Connections();
  const sessions = new H2Sessions(now);
  const maxStreamsTotal = options.maxStreamsTotal ?? options.maxConnections ?? 1024;

  const listener = (req: Request, res: Response) => {
    let sent: () => number;
    if (isHttp2(res)) {
      if (sessions.open >= maxStreamsTotal) {
        res.writeHead(503, { 'retry-after': '1', 'content-length': '0' });
        res.end();
        return;
      }
      sent = sessions.track(res);
    } else {
      const socket = (req as IncomingMessage).socket;
      connections.track(socket, res);
      const before = socket.bytesWritten;
      sent = () => socket.bytesWritten - before;
    }
    if (log) {
      const started = now();
      res.once('close', () => {
        const status = res.writableFinished ? String(res.statusCode) : `${res.statusCode}(aborted)`;
        log(
          `${req.method} ${printable(req.url ?? '')} ${status} ${sent()} ${Math.round(now() - started)}ms`,
        );
      });
    }
    handler(req, res);
  };
  const timeouts = {
    headersTimeout,
    requestTimeout,
    // Node checks both timeouts only every connectionsCheckingInterval (30 s by default).
    connectionsCheckingInterval: Math.min(1_000, headersTimeout),
  };
  let server: Server | Http2SecureServer;
  if (options.tls === undefined) {
    server = createServer(timeouts, listener);
    server.on('connection', (socket: Socket) => connections.add(socket));
  } else {
    server = createTlsServer(options.tls, {
      maxStreams: options.maxStreams ?? 100,
      handshakeTimeout: headersTimeout,
      listener,
    });
    // HTTP/1.1 over TLS goes through node:http's connection handling, with the same timeouts.
    Object.assign(server, timeouts, { keepAliveTimeout: 5_000 });
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol !== 'h2') connections.add(socket);
    });
    server.on('session', (session: ServerHttp2Session) => sessions.add(session));
  }
  // RFC 9110 §10.1.1: with uploads on, 100 (Continue) goes out only when an upload body is about
  // to be read (exchange.ts continueBody()), so a refused upload (401, 409, 413) costs the client
  // no bytes and no reset; without uploads, at once, as node:http would send it.
  server.on('checkContinue', (req: Request, res: Response) => {
    if (options.uploads === undefined) res.writeContinue();
    else expectContinue(req, res);
    listener(req, res);
  });
  server.maxConnections = options.maxConnections ?? 1024;
  const closeIdle = () => connections.closeIdle();
  (server as { closeIdleConnections?: () => void }).closeIdleConnections = closeIdle;
  const closeAllConnections = () => {
    connections.closeAll();
    sessions.closeAll();
  };
  const sendTimeout = options.sendTimeout ?? 30_000;
  const watchdog = setInterval(
    () => {
      const at = now();
      connections.sweep(at, sendTimeout);
      sessions.sweep(at, sendTimeout, idleTimeout);
    },
    Math.max(10, Math.min(1_000, sendTimeout / 4)),
  );
  watchdog.unref();
  server.once('close', () => clearInterval(watchdog));
  if (server instanceof HttpServer) server.keepAliveTimeout = 5_000;
  // No traffic either way for idleTimeout: the HTTP/1.x socket or the HTTP/2 session is destroyed.
  (
    server as { setTimeout(ms: number, cb: (idle: { destroy(): void }) => void): unknown }
  ).setTimeout(idleTimeout, (idle) => idle.destroy());

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
  const closeGrace = options.closeGrace ?? CLOSE_GRACE_MS;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // From now on a connection closes when its last response is flushed, a session when its
      // last stream is done.
      connections.stop();
      sessions.stop();
      const timer = setTimeout(closeAllConnections, closeGrace);
      await closed;
      clearTimeout(timer);
      handler.close();
    })();
    return closing;
  };
  const scheme = options.tls === undefined ? 'http' : 'https';
  return { server, url: formatOrigin(host, address.port, scheme), close, closeAllConnections };
}

/**
 * The S3 source of an `s3://` root (its uploads go into the bucket). Loaded only here:
 * serving a folder never loads the S3 client. A bad location, missing credentials or a store that
 * cannot be reached is one UsageError line (exit 2).
 */
async function openS3(root: string, options: ServerOptions): Promise<Source> {
  const [{ openS3Source }, { S3ConfigError }] = await Promise.all([
    import('./sources/s3.js'),
    import('./sources/s3-client.js'),
  ]);
  try {
    const source = await openS3Source(root, {
      endpoint: options.s3Endpoint,
      dotfiles: options.dotfiles ?? false,
      ...(options.s3Timeout === undefined ? {} : { timeout: options.s3Timeout }),
    });
    return source;
  } catch (error) {
    if (error instanceof S3ConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
