/**
 * `resolveSettings()`: checks the `DownloadOptions` and fills in every default (declared in
 * `defaults.ts`; house rule 10: limits are parameters with documented defaults).
 */
import { X509Certificate } from 'node:crypto';
import { proxyFor } from '../../core/proxy.js';
import { checkHeader } from '../../core/request-headers.js';
import { UsageError } from '../../errors.js';
import { parseChecksum } from '../store/checksum.js';
import type { Checksum, DownloadOptions } from '../types.js';
import { DEFAULTS } from './defaults.js';
import { checkHttpUrl } from './http-url.js';

/** The options with every default filled in (see `DownloadOptions` for each meaning). */
export interface Settings {
  output: string;
  /** undefined: chosen by size (core `connectionsFor()`). */
  connections: number | undefined;
  checksum: Checksum | undefined;
  retries: number;
  force: boolean;
  maxRedirects: number;
  /** Bytes; Infinity for no limit. */
  maxSize: number;
  allowInsecureRedirect: boolean;
  stallTimeout: number;
  saveInterval: number;
  saveBytes: number;
  sync: boolean;
  syncInterval: number;
  minSegment: number;
  slowGrace: number;
  progressInterval: number;
  maxRestarts: number;
  /** The user's header fields, checked (`headers`). */
  headers: Record<string, string>;
  /** TLS: skip verification; the PEM roots to trust instead of the defaults. */
  tls: { insecure: boolean; ca: string | undefined };
  /** Where the proxy variables are read (`proxyEnv`). */
  proxyEnv: Record<string, string | undefined>;
}

/** Checks `url` and `options` (UsageError when they cannot work) and fills in the defaults. */
export function resolveSettings(url: string, options: DownloadOptions): Settings {
  checkHttpUrl(url, `Cannot download "${url}"`);
  const c = options.connections;
  if (c !== undefined && (!Number.isSafeInteger(c) || c < 1 || c > 64)) {
    throw new UsageError(`Cannot use ${c} connections: expected an integer from 1 to 64`);
  }
  const r = options.retries;
  if (r !== undefined && (!Number.isSafeInteger(r) || r < 0)) {
    throw new UsageError(`Cannot use ${r} retries: expected a non-negative integer`);
  }
  for (const [name, value] of [
    ['saveInterval', options.saveInterval],
    ['syncInterval', options.syncInterval],
  ] as const) {
    if (value !== undefined && !(value > 0)) {
      throw new UsageError(`Cannot use ${name} ${value}: expected a positive number of ms`);
    }
  }
  const m = options.maxSize;
  if (m !== undefined && !(Number.isSafeInteger(m) && m >= 1) && m !== Number.POSITIVE_INFINITY) {
    throw new UsageError(
      `Cannot use maxSize ${m}: expected a positive integer number of bytes, or Infinity`,
    );
  }
  const checksum = options.checksum;
  const ca = options.ca === undefined ? undefined : checkCa(options.ca);
  return {
    output: options.output,
    connections: c,
    checksum: typeof checksum === 'string' ? parseChecksum(checksum) : checksum,
    retries: r ?? DEFAULTS.retries,
    force: options.force === true,
    maxRedirects: options.maxRedirects ?? DEFAULTS.maxRedirects,
    maxSize: m ?? DEFAULTS.maxSize,
    allowInsecureRedirect: options.allowInsecureRedirect === true,
    stallTimeout: options.stallTimeout ?? DEFAULTS.stallTimeout,
    saveInterval: options.saveInterval ?? DEFAULTS.saveInterval,
    saveBytes: options.saveBytes ?? DEFAULTS.saveBytes,
    sync: options.sync === true,
    syncInterval: options.syncInterval ?? DEFAULTS.syncInterval,
    minSegment: options.minSegment ?? DEFAULTS.minSegment,
    slowGrace: options.slowGrace ?? DEFAULTS.slowGrace,
    progressInterval: options.progressInterval ?? DEFAULTS.progressInterval,
    maxRestarts: options.maxRestarts ?? DEFAULTS.maxRestarts,
    headers: checkHeaders(options.headers ?? {}),
    tls: { insecure: options.insecure === true, ca },
    proxyEnv: checkProxyEnv(options.proxyEnv ?? process.env),
  };
}

/** The proxy variables, when each one that is set names an http:// proxy (else a UsageError). */
function checkProxyEnv(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const everywhere = { ...env, no_proxy: undefined, NO_PROXY: undefined };
  for (const scheme of ['http', 'https']) {
    const choice = proxyFor(new URL(`${scheme}://ranged.invalid/`), everywhere);
    if (choice.kind === 'invalid') {
      throw new UsageError(`Cannot use ${choice.variable}: ${choice.reason}`);
    }
  }
  return env;
}

/** Every field checked by core `checkHeader()`; the first bad one is a UsageError. */
function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const check = checkHeader({ name, value: String(value) });
    if (check.kind === 'invalid')
      throw new UsageError(`Cannot send header ${name}: ${check.reason}`);
    out[check.name] = check.value;
  }
  return out;
}

/** The PEM text of `ca`, when it holds at least one certificate and every one parses. */
export function checkCa(ca: string | Buffer): string {
  const text = typeof ca === 'string' ? ca : ca.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) {
    throw new UsageError('Cannot use the CA certificates: no PEM certificate found');
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new UsageError(
        `Cannot use the CA certificates: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return text;
}
