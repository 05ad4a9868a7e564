/**
 * The settings of one upload, resolved from its options and the defaults (engine/defaults.ts),
 * and the facts of the file to send (real path, size, mtime, sampled digest).
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FileFacts } from '../../core/upload/client-plan.js';
import { UsageError } from '../../errors.js';
import { defaultStateDir, sampledDigest } from '../store/upload-state.js';
import type { UploadOptions } from '../types.js';
import { DEFAULTS, SAMPLE_BLOCK_SIZE, SAMPLE_BLOCKS, UPLOAD_DEFAULTS } from './defaults.js';

export interface Settings {
  /** The user's fixed PATCH size; undefined: the size follows the rate (core/upload/chunk-size.ts). */
  chunkSize: number | undefined;
  connections: number;
  retries: number;
  stallTimeout: number;
  headers: Record<string, string>;
  stateDir: string;
}

export function settings(o: UploadOptions): Settings {
  const count = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
  ): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min)
      throw new UsageError(
        `Cannot upload: ${name} must be an integer of at least ${min}, got ${v}`,
      );
    return v;
  };
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  return {
    chunkSize: o.chunkSize === undefined ? undefined : count('chunkSize', o.chunkSize, 0, 1),
    connections: count('connections', o.connections, UPLOAD_DEFAULTS.connections, 1),
    retries: count('retries', o.retries, DEFAULTS.retries, 0),
    stallTimeout: count('stallTimeout', o.stallTimeout, DEFAULTS.stallTimeout, 1),
    headers,
    stateDir: o.stateDir ?? defaultStateDir(process.env),
  };
}

export async function realFile(file: string): Promise<string> {
  try {
    const real = await realpath(file);
    if (!(await stat(real)).isFile())
      throw new UsageError(`Cannot upload "${file}": not a regular file`);
    return real;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new UsageError(`Cannot upload "${file}": ${why}`);
  }
}

/** FILE's facts for the saved state; `s` its stat when the caller already took it. */
export async function fileFacts(file: string, s?: Stats): Promise<FileFacts> {
  s ??= await stat(file);
  const digest = await sampledDigest(file, s.size, SAMPLE_BLOCKS, SAMPLE_BLOCK_SIZE);
  return { size: s.size, mtimeMs: s.mtimeMs, digest };
}
