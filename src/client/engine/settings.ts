/**
 * `resolveSettings()`: checks the `DownloadOptions` and fills in every default (declared in
 * `defaults.ts`; house rule 10: limits are parameters with documented defaults).
 */
import { UsageError } from '../../errors.js';
import { parseChecksum } from '../store/checksum.js';
import type { Checksum, DownloadOptions } from '../types.js';
import { DEFAULTS } from './defaults.js';

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
}

/** Checks `url` and `options` (UsageError when they cannot work) and fills in the defaults. */
export function resolveSettings(url: string, options: DownloadOptions): Settings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`Cannot download "${url}": not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`Cannot download "${url}": only http and https URLs are supported`);
  }
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
  };
}
