/**
 * A small forward proxy for the client tests, on 127.0.0.1 port 0: absolute-form GETs for http
 * URLs (forwarded with node:http) and CONNECT tunnels for https URLs (bytes piped both ways). It
 * counts what it handles, can demand credentials (407) or refuse every tunnel (403), and
 * closes every connection on `close()`.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';

export interface ProxyOptions {
  /** `user:pass` that Proxy-Authorization: Basic must carry; else 407. */
  credentials?: string | undefined;
  /** Answer every CONNECT with this status (and close). */
  refuseConnect?: number | undefined;
}

export interface TestProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  options: ProxyOptions;
  /** Absolute-form requests forwarded (their request-target, e.g. `http://127.0.0.1:1/file.bin`). */
  forwarded: string[];
  /** CONNECT authorities tunnelled (`127.0.0.1:PORT`), and refused ones. */
  tunnels: string[];
  refused: string[];
  /** Request-targets that were not absolute-form (a client that forgot it talks to a proxy). */
  originForm: string[];
  /** The Proxy-Authorization of every request and CONNECT seen. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const allowed = (auth: string | undefined): boolean =>
    proxy.options.credentials === undefined ||
    auth === `Basic ${Buffer.from(proxy.options.credentials).toString('base64')}`;

  const server = http.createServer((req, res) => {
    const auth = req.headers['proxy-authorization'];
    proxy.authorizations.push(auth);
    const target = req.url ?? '';
    if (!/^http:\/\//.test(target)) {
      proxy.originForm.push(target);
      res.writeHead(400, { 'content-length': '0' });
      res.end();
      return;
    }
    if (!allowed(auth)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' });
      res.end();
      return;
    }
    proxy.forwarded.push(target);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
      res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    proxy.authorizations.push(auth);
    const authority = req.url ?? '';
    const refuse = (status: number, reason: string, extra = ''): void => {
      proxy.refused.push(authority);
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\n\r\n`);
    };
    if (proxy.options.refuseConnect !== undefined) {
      return refuse(proxy.options.refuseConnect, 'Forbidden');
    }
    if (!allowed(auth)) {
      return refuse(
        407,
        'Proxy Authentication Required',
        'Proxy-Authenticate: Basic realm="test"\r\n',
      );
    }
    const m = /^([^:]+|\[[^\]]+\]):([0-9]+)$/.exec(authority);
    if (m === null) return refuse(400, 'Bad Request');
    proxy.tunnels.push(authority);
    const upstream = net.connect(Number(m[2]), (m[1] as string).replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    options,
    forwarded: [],
    tunnels: [],
    refused: [],
    originForm: [],
    authorizations: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return proxy;
}
