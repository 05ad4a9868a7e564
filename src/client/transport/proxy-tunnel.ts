/**
 * `openTunnel()`: a CONNECT tunnel through an http:// proxy (RFC 9110 §9.3.6) to the host of an
 * https URL; TLS then runs over the returned socket, end to end with the origin. Core
 * `connectVerdict()` reads the proxy's answer.
 */
import net from 'node:net';
import { connectVerdict, type ProxyServer } from '../../core/proxy.js';
import { HttpStatusError, NetworkError, ProtocolError } from '../../errors.js';
import { networkReason } from './network-error.js';

const MAX_HEAD = 64 * 1024;

/** Where the tunnel goes (the URL asked for, for messages) and how long to wait. */
export interface TunnelOptions {
  signal: AbortSignal;
  /** No answer to CONNECT within this many ms is a failure. */
  timeout: number;
}

/**
 * Opens a TCP connection to `proxy`, asks it to CONNECT to the host and port of `url`, and
 * resolves with the socket once the proxy answers 2xx (paused; bytes after the answer are put
 * back). A refusal (407, 403…) is an HttpStatusError with the proxy's status; an unreachable
 * proxy a NetworkError (with the errno code in `cause`).
 */
export function openTunnel(
  proxy: ProxyServer,
  url: URL,
  options: TunnelOptions,
): Promise<net.Socket> {
  const port = url.port === '' ? 443 : Number(url.port);
  const authority = `${url.hostname}:${port}`; // brackets kept around IPv6 (RFC 9112 §3.2.3)
  const via = `the proxy ${proxy.display} (${proxy.variable})`;
  const where = `Cannot download "${url.href}"`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let head = Buffer.alloc(0);
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (error === undefined) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => {
      settle(
        new NetworkError(
          `${where}: ${via} did not answer CONNECT within ${options.timeout / 1000} s`,
        ),
      );
    }, options.timeout);
    const onAbort = (): void => {
      const reason: unknown = options.signal.reason;
      settle(reason instanceof Error ? reason : new NetworkError(`${where}: aborted`));
    };
    const onError = (error: Error): void => {
      settle(
        new NetworkError(`${where}: cannot reach ${via}: ${networkReason(error)}`, {
          cause: error,
        }),
      );
    };
    const onClose = (): void => {
      settle(new NetworkError(`${where}: ${via} closed the connection before answering CONNECT`));
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD)
          settle(new ProtocolError(`${where}: ${via} sent a head larger than 64 KiB`));
        return;
      }
      socket.pause();
      const verdict = connectVerdict(head.toString('latin1', 0, end));
      if (verdict.kind === 'invalid') {
        settle(new ProtocolError(`${where}: ${via} did not answer CONNECT in HTTP`));
        return;
      }
      if (verdict.kind === 'refused') {
        const status = `${verdict.status} ${verdict.reason}`.trimEnd();
        const hint =
          verdict.status !== 407
            ? ''
            : proxy.authorization === undefined
              ? ' (it wants credentials: http://user:pass@host:port)'
              : ' (it refused the credentials in the proxy URL)';
        settle(
          new HttpStatusError(`${where}: ${via} refused the tunnel: ${status}${hint}`, {
            status: verdict.status,
            url: proxy.display,
          }),
        );
        return;
      }
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      settle(undefined);
    };
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.once('connect', () => {
      const auth =
        proxy.authorization === undefined ? '' : `Proxy-Authorization: ${proxy.authorization}\r\n`;
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`, 'latin1');
    });
  });
}
