/**
 * The one test every served or listed path passes: its real path stays inside the real root and,
 * unless dotfiles are allowed, names no hidden file or folder on the way. And the way to open a
 * path so that this test is about what was opened, not about what the path named a moment before.
 *
 * Checking a path and then opening it is a race: between the two, any folder on the way (or the
 * file itself) can be swapped for a symlink that leads out of the root. So here the open comes
 * first and the check is made on the descriptor. On Linux the path is opened with O_PATH (which
 * follows symlinks but reads nothing and has no side effect, even on a device or a FIFO), the
 * kernel says where the opened inode really is (`/proc/self/fd/N`), and only if that is inside the
 * root is the inode opened for reading, through the same descriptor, never through the path again.
 * Folders are listed through `/proc/self/fd/N` too, so the names read are those of the folder that
 * was checked.
 *
 * Where `/proc/self/fd` is missing (not Linux), a file is opened by path and then must be the same
 * inode (device and inode number) as the file at its real path, found afterwards; a folder is
 * checked before and after it is read. That narrows the window for folders but cannot close it.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/** True if `child` is `root` or inside it; `..`-prefixed names like `..foo` are fine. */
export function isPathInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The folder below the root where unfinished uploads live (server/uploads/). Nothing in it is ever
 * served or listed, with or without dotfiles, with or without uploads on: partial data must never
 * be readable (issue 12).
 */
export const UPLOAD_STORE_NAME = '.ranged-uploads';

/** True if the real path `real` may be served from the real root `root`. */
export function isServable(root: string, real: string, options: { dotfiles: boolean }): boolean {
  if (!isPathInside(root, real)) return false;
  if (real === root) return true;
  const segments = relative(root, real).split(sep);
  if (segments[0] === UPLOAD_STORE_NAME) return false;
  return options.dotfiles || !segments.some((segment) => segment.startsWith('.'));
}

/** A path for the fs functions: a string, or raw bytes for names that are not valid UTF-8. */
export type FsPath = string | Buffer;

/** Joins a folder path and one name, keeping raw bytes raw. */
export function joinFsPath(dir: FsPath, name: FsPath): FsPath {
  if (typeof dir === 'string' && typeof name === 'string') return `${dir}${sep}${name}`;
  return Buffer.concat([Buffer.from(dir), Buffer.from(sep), Buffer.from(name)]);
}

/** Linux's O_PATH (the same value on every Linux architecture Node runs on). */
const O_PATH = 0o10000000;
/** O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on regular files. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** True where descriptors can be checked and reopened through `/proc/self/fd` (Linux). */
export const RACE_FREE = process.platform === 'linux' && existsSync('/proc/self/fd');

/** What a path named when it was opened, checked against the root. */
export type Opened =
  /** A regular file inside the root, open for reading. The caller closes `fd`. */
  | { kind: 'file'; fd: number; real: string; stats: Stats }
  /** A folder inside the root (not opened for reading). */
  | { kind: 'folder'; real: string; stats: Stats }
  /** Outside the root, hidden, or neither a file nor a folder (FIFOs, sockets, devices). */
  | { kind: 'refused' };

export interface InsideOptions {
  /** Names that start with a dot may be on the real path. */
  dotfiles: boolean;
}

/**
 * Opens what `path` names (symlinks followed) and returns it only if the opened inode's real path
 * is servable from `root` (a real path). Throws the fs error (ENOENT, EACCES, …) if it cannot
 * be opened at all.
 */
export function openInside(root: string, path: FsPath, options: InsideOptions): Opened {
  if (!RACE_FREE) return openInsideByPath(root, path, options);
  const handle = openSync(path, O_PATH);
  try {
    const real = realInside(root, handle, options);
    if (real === undefined) return { kind: 'refused' };
    const stats = fstatSync(handle);
    if (stats.isDirectory()) return { kind: 'folder', real, stats };
    if (!stats.isFile()) return { kind: 'refused' };
    // Reopening through /proc opens this very inode, whatever the path names by now.
    return { kind: 'file', fd: openSync(`/proc/self/fd/${handle}`, READ_FLAGS), real, stats };
  } finally {
    closeSync(handle);
  }
}

/** The real path of the inode `handle` holds, if it is servable from `root` (Linux only). */
function realInside(root: string, handle: number, options: InsideOptions): string | undefined {
  const real = readlinkSync(`/proc/self/fd/${handle}`);
  return isServable(root, real, options) ? real : undefined;
}

function openInsideByPath(root: string, path: FsPath, options: InsideOptions): Opened {
  const fd = openSync(path, READ_FLAGS);
  let keep = false;
  try {
    const stats = fstatSync(fd);
    const real = realpathSync.native(path, 'utf8');
    const there = statSync(real);
    // The inode opened must be the one at a real path inside the root.
    if (there.ino !== stats.ino || there.dev !== stats.dev) return { kind: 'refused' };
    if (!isServable(root, real, options)) return { kind: 'refused' };
    if (stats.isDirectory()) return { kind: 'folder', real, stats };
    if (!stats.isFile()) return { kind: 'refused' };
    keep = true;
    return { kind: 'file', fd, real, stats };
  } finally {
    if (!keep) closeSync(fd);
  }
}

/** A folder opened and checked for listing. */
export interface OpenedFolder {
  /** The folder's real path (for messages and the listing's links). */
  real: string;
  /** A path that names exactly the opened folder (`/proc/self/fd/N` on Linux). */
  path: string;
  /** On a system without /proc: true if the folder is still the one checked (call after reading). */
  stillInside(): boolean;
  close(): void;
}

/**
 * Opens the folder `path` names for listing; undefined if it is not a folder servable from `root`.
 * Names read through `.path` (and paths below it) belong to the folder that was checked.
 */
export function openFolderInside(
  root: string,
  path: FsPath,
  options: InsideOptions,
): OpenedFolder | undefined {
  if (!RACE_FREE) {
    const opened = openInsideByPath(root, path, options);
    if (opened.kind !== 'folder') return undefined;
    const { real, stats } = opened;
    return {
      real,
      path: real,
      stillInside: () => {
        try {
          const now = statSync(realpathSync.native(real));
          return now.ino === stats.ino && now.dev === stats.dev && isServable(root, real, options);
        } catch {
          return false;
        }
      },
      close: () => {},
    };
  }
  const handle = openSync(path, O_PATH | constants.O_DIRECTORY);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeSync(handle);
  };
  try {
    const real = realInside(root, handle, options);
    if (real === undefined) {
      close();
      return undefined;
    }
    return { real, path: `/proc/self/fd/${handle}`, stillInside: () => true, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * The stats of what `path` names (symlinks followed) if it is a file or folder servable from
 * `root`; undefined otherwise. Nothing is opened for reading (used for listings).
 */
export function statInside(root: string, path: FsPath, options: InsideOptions): Stats | undefined {
  if (!RACE_FREE) {
    const real = realpathSync.native(path, 'utf8');
    if (!isServable(root, real, options)) return undefined;
    const stats = statSync(real);
    return stats.isFile() || stats.isDirectory() ? stats : undefined;
  }
  const handle = openSync(path, O_PATH);
  try {
    if (realInside(root, handle, options) === undefined) return undefined;
    const stats = fstatSync(handle);
    return stats.isFile() || stats.isDirectory() ? stats : undefined;
  } finally {
    closeSync(handle);
  }
}
