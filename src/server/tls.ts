/**
 * HTTPS: one node:http2 secure server answering HTTP/2 and HTTP/1.1 on the same port, the protocol
 * chosen by ALPN (RFC 7301; RFC 9113 §3.2), and the reading of the certificate and key files.
 */
import { readFileSync } from 'node:fs';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { UsageError } from '../errors.js';

export interface TlsOptions {
  /** The certificate chain, PEM (the server's certificate first). */
  cert: string | Buffer;
  /** The private key of the certificate, PEM, unencrypted. */
  key: string | Buffer;
}

export function createTlsServer(
  tls: TlsOptions,
  options: {
    maxStreams: number;
    handshakeTimeout: number;
    listener: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  },
): Http2SecureServer {
  try {
    return createSecureServer(
      {
        cert: tls.cert,
        key: tls.key,
        allowHTTP1: true,
        // A TLS handshake that does not finish in time is cut, like request headers that do not.
        handshakeTimeout: options.handshakeTimeout,
        // RFC 9113 §5.1.2: the server bounds the streams a client may open at once (Node's
        // default is 2^32-1); past it the client's new streams are refused.
        settings: { maxConcurrentStreams: options.maxStreams },
      },
      options.listener,
    );
  } catch (cause) {
    throw new UsageError(`Cannot use the TLS certificate and key: ${tlsReason(cause)}`, { cause });
  }
}

/** OpenSSL's reason, e.g. `PEM routines::no start line` → `no start line`. */
function tlsReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /::([^:]+)$/.exec(message)?.[1] ?? message;
  if (reason === 'no start line') return 'not a PEM certificate and key';
  return reason.replace(/\.$/, '');
}

/**
 * Reads `--tls-cert` and `--tls-key` (both or neither); undefined when neither is given. Checks
 * that they are a matching certificate and key, so a mistake is said before listening.
 */
export function loadTlsFiles(
  certPath: string | undefined,
  keyPath: string | undefined,
): TlsOptions | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    const missing = certPath === undefined ? '--tls-cert' : '--tls-key';
    const given = certPath === undefined ? '--tls-key' : '--tls-cert';
    throw new UsageError(`Cannot serve HTTPS: ${given} needs ${missing} too`);
  }
  const read = (option: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'a folder'
              : String(code ?? cause);
      throw new UsageError(`Cannot read ${option} "${path}": ${why}`, { cause });
    }
  };
  const cert = read('--tls-cert', certPath);
  const key = read('--tls-key', keyPath);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`Cannot use --tls-cert "${certPath}": no PEM certificate in it`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw new UsageError(`Cannot use --tls-key "${keyPath}": no PEM private key in it`);
  }
  if (/ENCRYPTED/.test(key.toString('latin1'))) {
    throw new UsageError(
      `Cannot use --tls-key "${keyPath}": the key is encrypted (decrypt it first: openssl pkey -in KEY -out PLAIN)`,
    );
  }
  return { cert, key };
}
