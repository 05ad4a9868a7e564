/**
 * HTTPS for the client tests: a self-signed certificate for 127.0.0.1, made with `openssl` at test
 * time (never checked in), and a server that answers every request with a redirect (over http or
 * https). The client trusts the certificate only in a child process started with
 * `NODE_EXTRA_CA_CERTS` (`trustEnv()`), or with `--ca` (get.tls-trust.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
  /** A PEM file holding `cert`, for NODE_EXTRA_CA_CERTS. */
  certPath: string;
}

let made: TestCertificate | undefined;

/**
 * A P-256 key and a self-signed certificate for IP 127.0.0.1 (valid 100 years), made once per
 * process; undefined when openssl is not installed.
 */
export function testCertificate(): TestCertificate | undefined {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'ranged-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-keyout', keyPath, '-out', certPath, '-days', '36500'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  made = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
  return made;
}

/** The environment of a child process that trusts `cert` (and everything the parent trusts). */
export function trustEnv(cert: TestCertificate): NodeJS.ProcessEnv {
  return { ...process.env, NODE_EXTRA_CA_CERTS: cert.certPath };
}

export interface Redirector {
  /** `http(s)://127.0.0.1:PORT/file.bin`: any path redirects. */
  url: string;
  /** Where the next request is sent (302); tests change it between runs. */
  location: string;
  /** Requests answered so far. */
  requests: number;
  /** The header fields of every request answered. */
  headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1 answering every request `302 Location: redirector.location`. */
export async function startRedirector(options: {
  location: string;
  tls?: TestCertificate | undefined;
}): Promise<Redirector> {
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    redirector.requests++;
    redirector.headers.push(req.headers);
    res.writeHead(302, { location: redirector.location, 'content-length': '0' });
    res.end();
  };
  const server =
    options.tls === undefined
      ? http.createServer(listener)
      : https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const redirector: Redirector = {
    url: `${scheme}://127.0.0.1:${port}/file.bin`,
    location: options.location,
    requests: 0,
    headers: [],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return redirector;
}
