/**
 * The file source: the files and folders below a root folder on disk. What is opened (or listed)
 * must really be inside the real root when it is opened, symlinks and all: the check is made on the
 * opened descriptor (inside-root.ts), so swapping a name for a symlink meanwhile cannot lead out of
 * the root.
 */
import { type Dir, lstatSync, opendirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { fileETag } from '../../core/validators.js';
import type { Request, Response } from '../exchange.js';
import { type Lease, OpenFileCache } from '../file-cache.js';
import {
  type FsPath,
  joinFsPath,
  type OpenedFolder,
  openFolderInside,
  openInside,
  statInside,
  UPLOAD_STORE_NAME,
} from '../inside-root.js';
import type { ListingEntry } from '../listing/entry.js';
import { type ServeFileOptions, sendOpenFile, typeForPath } from '../serve-file.js';
import type { Found, ListedFolder, Source } from './source.js';

interface FoundFile {
  path: FsPath;
  stats: Stats;
}

export class FileSource implements Source {
  readonly #root: string;
  readonly #inside: { dotfiles: boolean };
  readonly #cache: OpenFileCache;
  #realRoot: string | undefined;

  /** `openFiles`: descriptors kept open for recently served files. */
  constructor(root: string, options: { dotfiles: boolean; openFiles: number }) {
    this.#root = root;
    this.#inside = { dotfiles: options.dotfiles };
    this.#cache = new OpenFileCache({ max: options.openFiles });
  }

  /** The root's real path, found at the first request (the folder may be made after start). */
  get realRoot(): string {
    this.#realRoot ??= realpathSync.native(this.#root);
    return this.#realRoot;
  }

  /**
   * Says what `names` lead to below the real root, without opening it. Without symlinks on the way
   * (the common case), one lstat per name; with one, a stat of the whole path. This only sorts
   * requests: whatever it says, the file or folder is checked again when it is opened.
   */
  find(names: readonly FsPath[]): Found {
    const base = this.realRoot;
    let path: FsPath = base;
    let stats: Stats | undefined;
    for (let i = 0; i < names.length; i++) {
      path = joinFsPath(path, names[i] as FsPath);
      stats = lstatSync(path);
      if (stats.isSymbolicLink()) {
        for (const rest of names.slice(i + 1)) path = joinFsPath(path, rest);
        return classify(path, statSync(path));
      }
    }
    return classify(path, stats ?? statSync(base));
  }

  async send(
    req: Request,
    res: Response,
    found: Extract<Found, { kind: 'file' }>,
    type: string,
    options: ServeFileOptions,
  ): Promise<void> {
    const file = found.file as FoundFile;
    const lease: Lease | undefined = this.#cache.acquire(cacheKey(file.path), file.stats, () => {
      const opened = openInside(this.realRoot, file.path, this.#inside);
      return opened.kind === 'file' ? opened : undefined;
    });
    if (lease === undefined) throw missing();
    try {
      await sendOpenFile(req, res, lease, type, options);
    } finally {
      lease.release();
    }
  }

  openFolder(found: Extract<Found, { kind: 'folder' }>): ListedFolder | undefined {
    const root = this.realRoot;
    const folder = openFolderInside(root, found.folder as FsPath, this.#inside);
    if (folder === undefined) return undefined;
    const options = { dotfiles: this.#inside.dotfiles, root };
    return {
      key: `${options.dotfiles ? '.' : ''}${folder.real}`,
      identity: () => {
        const stats = statSync(folder.path);
        return `${stats.dev}:${stats.ino}:${stats.mtimeMs}:${stats.ctimeMs}`;
      },
      read: (max) => readEntries(folder, options, max),
      stillInside: () => folder.stillInside(),
      close: () => folder.close(),
    };
  }

  uploadStore(): string {
    return this.realRoot;
  }

  close(): void {
    this.#cache.close();
  }
}

function missing(): NodeJS.ErrnoException {
  return Object.assign(new Error('Not found inside the root'), { code: 'ENOENT' });
}

/** The cache key for a path (raw-byte paths get a prefix no real path can start with). */
function cacheKey(path: FsPath): string {
  return typeof path === 'string' ? path : `\0${path.toString('latin1')}`;
}

function classify(path: FsPath, stats: Stats): Found {
  if (stats.isFile()) return { kind: 'file', file: { path, stats } satisfies FoundFile };
  if (stats.isDirectory()) return { kind: 'folder', folder: path };
  return { kind: 'refused' }; // FIFOs, sockets, devices are never opened
}

/** Entries stat'ed between two yields to other requests. */
const BATCH = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const STORE_NAME = Buffer.from(UPLOAD_STORE_NAME);
const lossy = new TextDecoder('utf-8');

/**
 * Reads a folder into listing entries (unsorted), in small synchronous batches with a yield to
 * other requests between them. Skipped: dot names (unless `dotfiles`), entries that are neither
 * files nor folders, dangling symlinks and symlinks leading out of the root, and names with a
 * backslash (the handler refuses those as encoded separators, so their links could never work).
 * Names that are not valid UTF-8 are kept, with their bytes for the link.
 */
async function readEntries(
  folder: OpenedFolder,
  options: { dotfiles: boolean; root: string },
  max: number,
): Promise<{ entries: ListingEntry[]; truncated: boolean }> {
  // Node reads names as bytes with `encoding: 'buffer'`; @types/node knows only text names here.
  const asBytes = { encoding: 'buffer', bufferSize: 1024 } as unknown as { bufferSize: number };
  const dir: Dir = opendirSync(folder.path, asBytes);
  const entries: ListingEntry[] = [];
  let truncated = false;
  const atRoot = folder.real === options.root;
  try {
    for (;;) {
      let done = false;
      for (let i = 0; i < BATCH; i++) {
        const dirent = dir.readSync();
        if (dirent === null) {
          done = true;
          break;
        }
        const raw = dirent.name as unknown as Buffer;
        if ((!options.dotfiles && raw[0] === 0x2e) || raw.includes(0x5c)) continue;
        // The upload store is never listed (issue 12), even with dotfiles.
        if (atRoot && raw.equals(STORE_NAME)) continue;
        if (entries.length >= max) {
          truncated = true;
          done = true;
          break;
        }
        const entry = entryFor(folder.path, raw, options);
        if (entry !== undefined) entries.push(entry);
      }
      if (done) break;
      await yieldToOthers();
    }
  } finally {
    dir.closeSync();
  }
  return { entries, truncated };
}

function entryFor(
  dir: string,
  raw: Buffer,
  options: { dotfiles: boolean; root: string },
): ListingEntry | undefined {
  let stats: Stats | undefined;
  try {
    const path = joinFsPath(dir, raw);
    stats = lstatSync(path);
    // A symlink is listed only if it could be served: nothing about a target outside the root
    // (not even its size or time) is shown.
    if (stats.isSymbolicLink()) stats = statInside(options.root, path, options);
  } catch {
    return undefined; // a dangling symlink or a file removed meanwhile
  }
  if (stats === undefined) return undefined;
  let name: string;
  let bytes: Uint8Array | undefined;
  try {
    name = utf8.decode(raw);
  } catch {
    name = lossy.decode(raw);
    bytes = new Uint8Array(raw);
  }
  const mtime = new Date(stats.mtimeMs).toISOString();
  const extra = bytes === undefined ? {} : { bytes };
  if (stats.isDirectory()) {
    return {
      name,
      kind: 'directory',
      size: null,
      mtime,
      type: 'inode/directory',
      etag: null,
      ...extra,
    };
  }
  if (!stats.isFile()) return undefined;
  return {
    name,
    kind: 'file',
    size: stats.size,
    mtime,
    type: typeForPath(name),
    // The same tag serveFile() sends for this file.
    etag: fileETag({ size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino }),
    ...extra,
  };
}
