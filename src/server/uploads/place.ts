/**
 * Where a finished upload goes: its target below the served folder, reached without ever leaving the
 * real root (each folder on the way is opened and checked, inside-root.ts, and created when
 * missing), and made to appear with one link(): atomic, on the same file system, and never over an
 * existing file (link fails with EEXIST where rename would replace).
 */
import {
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { type OpenedFolder, openFolderInside } from '../inside-root.js';
import type { TargetCheck } from './store-types.js';

/** Says whether an upload could be placed at `target` (no folder is created). */
export function checkTarget(
  root: string,
  target: readonly string[],
  dotfiles: boolean,
): TargetCheck {
  let folder: OpenedFolder | undefined = openFolderInside(root, root, { dotfiles });
  if (folder === undefined) return { kind: 'blocked', reason: 'the served folder is gone' };
  try {
    for (const [i, name] of target.entries()) {
      const path = `${folder.path}/${name}`;
      const last = i === target.length - 1;
      let isFolder: boolean;
      try {
        isFolder = (last ? lstatSync(path) : statSync(path)).isDirectory();
      } catch (error) {
        if (isMissing(error)) return { kind: 'free' };
        if ((error as NodeJS.ErrnoException).code === 'ENAMETOOLONG') {
          return { kind: 'blocked', reason: 'a name or the path is too long' };
        }
        throw error;
      }
      if (last) return { kind: 'exists' };
      if (!isFolder)
        return { kind: 'blocked', reason: `${target.slice(0, i + 1).join('/')} is not a folder` };
      const next = openFolderInside(root, path, { dotfiles });
      if (next === undefined) {
        return { kind: 'blocked', reason: `${target.slice(0, i + 1).join('/')} leads outside` };
      }
      folder.close();
      folder = next;
    }
    return { kind: 'free' };
  } finally {
    folder?.close();
  }
}

export type Placed = { kind: 'placed' } | { kind: 'exists' } | { kind: 'blocked'; reason: string };

/**
 * Makes the file at `data` appear at `target` below `root`, creating missing folders. `data` stays
 * where it is (the caller removes it). Already placed (the same inode there, after a crash between
 * link and bookkeeping) counts as placed.
 */
export function placeFile(
  root: string,
  data: string,
  target: readonly string[],
  dotfiles: boolean,
): Placed {
  const name = target.at(-1);
  if (name === undefined) return { kind: 'blocked', reason: 'no name' };
  let folder: OpenedFolder | undefined = openFolderInside(root, root, { dotfiles });
  if (folder === undefined) return { kind: 'blocked', reason: 'the served folder is gone' };
  try {
    for (const [i, segment] of target.slice(0, -1).entries()) {
      const path = `${folder.path}/${segment}`;
      try {
        mkdirSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const next = openFolderInside(root, path, { dotfiles });
      if (next === undefined) {
        return { kind: 'blocked', reason: `${target.slice(0, i + 1).join('/')} leads outside` };
      }
      folder.close();
      folder = next;
    }
    const at = `${folder.path}/${name}`;
    try {
      linkSync(data, at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return sameFile(data, at) ? { kind: 'placed' } : { kind: 'exists' };
      if (code !== 'EXDEV') throw error;
      copyThenLink(data, folder.path, name);
    }
    syncFolder(folder.path);
    return { kind: 'placed' };
  } finally {
    folder?.close();
  }
}

/** A target folder on another file system: a synced copy under a hidden name, then link. */
function copyThenLink(data: string, folder: string, name: string): void {
  const temp = `${folder}/.${name}.ranged-${process.pid}-${Date.now()}`;
  copyFileSync(data, temp, constants.COPYFILE_EXCL);
  try {
    const fd = openSync(temp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, `${folder}/${name}`);
  } finally {
    unlinkSync(temp);
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = lstatSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

/** fsync of a folder, so a new name in it survives a power cut. */
export function syncFolder(path: string): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
