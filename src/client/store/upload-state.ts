/**
 * The state of one upload on disk: one JSON file per (file real path, URL) pair, named by a hash
 * of both, in the state folder (`$XDG_STATE_HOME/ranged/`, else `~/.local/state/ranged/`), never
 * beside the file. It holds what the server cannot tell: the upload URLs, the protocol, the parts,
 * and the file's size, mtime and sampled digest (core/upload/client-plan.ts decides whether they
 * still match). Replaced atomically (temporary file, fsync, rename, fsync of the folder), saved
 * right after a creation (a kill -9 before the first PATCH still resumes), removed when the server
 * confirmed the whole upload.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  type FileFacts,
  samplePositions,
  type UploadPart,
  type UploadProtocol,
} from '../../core/upload/client-plan.js';
import { fsError } from './fs-error.js';
import { syncDirectory } from './sync-directory.js';

export const UPLOAD_STATE_FORMAT = 'ranged-upload';
export const UPLOAD_STATE_VERSION = 1;

/** One upload of the file: a part (the whole file without concatenation) and its URL. */
export interface SavedPart extends UploadPart {
  url: string;
}

export interface UploadStateRecord {
  format: typeof UPLOAD_STATE_FORMAT;
  version: typeof UPLOAD_STATE_VERSION;
  file: string;
  /** The URL given to put (the creation endpoint or the target). */
  url: string;
  protocol: UploadProtocol;
  /** tus with concatenation: the parts are partial uploads, concatenated at the end. */
  concat: boolean;
  facts: FileFacts;
  parts: SavedPart[];
}

/**
 * The state folder: `$XDG_STATE_HOME/ranged`, else `~/.local/state/ranged`. A relative
 * XDG_STATE_HOME is ignored, as the XDG Base Directory spec asks.
 */
export function defaultStateDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_STATE_HOME;
  return xdg !== undefined && isAbsolute(xdg)
    ? join(xdg, 'ranged')
    : join(homedir(), '.local/state/ranged');
}

/** The state file of (`file`, `url`): `upload-<sha256 of both, 32 hex>.json` in `dir`. */
export function statePath(dir: string, file: string, url: string): string {
  const hash = createHash('sha256').update(file).update('\0').update(url).digest('hex');
  return join(dir, `upload-${hash.slice(0, 32)}.json`);
}

/** Reads the state at `path`; undefined when there is none or it is not a state this version wrote. */
export async function loadUploadState(path: string): Promise<UploadStateRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError('read', path, error);
  }
  try {
    const value = JSON.parse(text) as Partial<UploadStateRecord>;
    if (value.format !== UPLOAD_STATE_FORMAT || value.version !== UPLOAD_STATE_VERSION)
      return undefined;
    if (!Array.isArray(value.parts) || value.parts.length === 0 || value.facts === undefined)
      return undefined;
    return value as UploadStateRecord;
  } catch {
    return undefined; // garbage (a crash of the machine before the rename was synced): start over
  }
}

/** Replaces the state at `path` atomically: `path.tmp`, fsync, rename, fsync of the folder. */
export async function saveUploadState(path: string, state: UploadStateRecord): Promise<void> {
  const dir = join(path, '..');
  const tmp = `${path}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(state)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (error) {
    throw fsError('save the upload state', path, error);
  }
  await syncDirectory(dir);
}

/** Removes the state at `path` (nothing when there is none). */
export async function removeUploadState(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw fsError('remove the upload state', path, error);
  }
}

/**
 * The sampled digest of the open file: sha256 of the blocks at samplePositions(), each preceded
 * by its position, and of the size.
 */
export async function sampledDigest(
  path: string,
  size: number,
  blocks: number,
  blockSize: number,
): Promise<string> {
  const hash = createHash('sha256').update(`${size}\n`);
  const fh = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(size, Math.max(blockSize, blocks * blockSize)));
    for (const { start, length } of samplePositions(size, blocks, blockSize)) {
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buffer, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      hash.update(`${start}:`).update(buffer.subarray(0, got));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
