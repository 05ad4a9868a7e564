/**
 * `requestHttps()`: one https GET over node:https, directly (with the keep-alive agent) or through
 * a CONNECT tunnel (`openTunnel()`) with TLS over the tunnel socket: the certificate is checked
 * against the origin's name end to end, never the proxy's.
 */
import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import type { ProxyServer } from '../../core/proxy.js';
import { NetworkError } from '../../errors.js';
import type { BodySink, ResponseBody } from './http1.js';
import { networkError } from './network-error.js';
import { openTunnel } from './proxy-tunnel.js';

/** A response head and its body. */
export interface Answer {
  status: number;
  statusMessage: string;
  headers: Record<string, string | undefined>;
  body: ResponseBody;
}

export interface HttpsOptions {
  signal: AbortSignal;
  /** No response head within this many ms is a failure. */
  timeout: number;
  /** Skip verification; trust these PEM roots instead of the defaults. */
  tls?: { insecure: boolean; ca: string | undefined } | undefined;
  /** Holds the keep-alive agent for direct requests, created on first use. */
  agents?: { https?: https.Agent } | undefined;
  /** Tunnel through this proxy (one tunnel per request: no keep-alive). */
  proxy?: ProxyServer | undefined;
}

/** node:https is loaded only for an https URL: it costs ~4 MiB of memory that http never needs. */
export async function requestHttps(
  url: URL,
  headers: Record<string, string>,
  options: HttpsOptions,
): Promise<Answer> {
  const { Agent, request } = await import('node:https');
  const timeout = options.timeout;
  const tls = {
    rejectUnauthorized: options.tls?.insecure !== true,
    ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
  };
  const proxy = options.proxy;
  if (options.agents !== undefined && proxy === undefined) {
    options.agents.https ??= new Agent({ keepAlive: true, ...tls });
  }
  const agent = options.agents?.https;
  // No agent: node:http then uses `createConnection` for this one request.
  let via: { createConnection: unknown } | undefined;
  if (proxy !== undefined) {
    const { connect } = await import('node:tls');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    via = {
      // node:http calls this with a callback and waits for it (ClientRequest's `oncreate`).
      createConnection: (_: unknown, done: (error: Error | null, socket?: net.Socket) => void) => {
        openTunnel(proxy, url, { signal: options.signal, timeout }).then(
          (socket) => {
            const secure = connect({
              socket,
              host, // the name the certificate must carry: the origin's, never the proxy's
              ...tls,
              // SNI carries a host name, never an address (RFC 6066 §3).
              ...(net.isIP(host) === 0 ? { servername: host } : {}),
            });
            done(null, secure);
          },
          (error: Error) => done(error),
        );
        return undefined;
      },
    };
  }
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers,
      signal: options.signal,
      ...(via !== undefined ? via : agent === undefined ? tls : { agent }),
    } as https.RequestOptions);
    const timer = setTimeout(() => {
      req.destroy(
        new NetworkError(`Cannot download "${url.href}": no response within ${timeout / 1000} s`),
      );
    }, timeout);
    req.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      const flat: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      resolve({
        status: res.statusCode ?? 0,
        statusMessage: res.statusMessage ?? '',
        headers: flat,
        body: streamBody(res, url.href),
      });
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** A ResponseBody over a node:http(s) IncomingMessage (https only). */
function streamBody(res: IncomingMessage, href: string): ResponseBody {
  return {
    async read(sink: BodySink, options: { stallTimeout: number }): Promise<void> {
      const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      try {
        for (;;) {
          // The stall timer runs only while waiting for the network, not while the sink writes.
          const timer = setTimeout(() => {
            res.destroy(
              new NetworkError(
                `Cannot download "${href}": no data for ${options.stallTimeout / 1000} s`,
              ),
            );
          }, options.stallTimeout);
          let step: IteratorResult<Buffer>;
          try {
            step = await it.next();
          } catch (error) {
            throw networkError(href, error);
          } finally {
            clearTimeout(timer);
          }
          if (step.done === true) return;
          if (!(await sink(step.value))) return;
        }
      } finally {
        if (!res.complete) res.destroy();
      }
    },
    destroy(error?: Error): void {
      res.destroy(error);
    },
    get complete() {
      return res.complete;
    },
  };
}
