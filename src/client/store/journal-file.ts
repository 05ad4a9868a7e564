/**
 * Journal files on disk: `loadJournal()` reads and checks one, `saveJournal()` replaces one
 * atomically (write a temporary file, fsync it, rename it over the old one, fsync the folder).
 * Callers make the data durable first (house rule 8), or write the live journal without fsync
 * (see part-store.ts).
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeJournal, encodeJournal, type Journal } from '../../core/journal.js';
import { JournalError } from '../../errors.js';
import { fsError } from './fs-error.js';
import { syncDirectory } from './sync-directory.js';

/**
 * Reads the journal at `path`. Resolves to undefined when there is none, or when it is empty or
 * all NUL bytes (what a crash of the machine can leave of a file renamed without fsync; then
 * `onEmpty` is called); rejects with a JournalError when the file is not a journal this version
 * can trust.
 */
export async function loadJournal(
  path: string,
  onEmpty?: () => void,
): Promise<Journal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError('read', path, error);
  }
  if (/^[\0\s]*$/.test(text)) {
    onEmpty?.();
    return undefined;
  }
  const decoded = decodeJournal(text);
  if (decoded.kind === 'unsupported') {
    throw new JournalError(
      `Cannot read journal "${path}": format version ${decoded.version} is newer than this ranged understands`,
    );
  }
  if (decoded.kind === 'invalid') {
    throw new JournalError(`Cannot read journal "${path}": ${decoded.reason}`);
  }
  return decoded.journal;
}

/**
 * Replaces the journal at `path` with `journal`: `path.tmp` is written and fsynced, then renamed
 * over `path`, then the folder is fsynced. A crash at any point leaves the old journal or the new
 * one, never a torn one. With `sync: false` (the live journal, trusted only in this boot) the
 * fsyncs are skipped: a killed process still leaves the old journal or the new one.
 */
export async function saveJournal(
  path: string,
  journal: Journal,
  options: { sync?: boolean } = {},
): Promise<void> {
  const sync = options.sync !== false;
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(encodeJournal(journal));
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined); // e.g. a disk that filled up: leave no debris
    throw fsError('write', path, error);
  }
  if (sync) await syncDirectory(dirname(path));
}

/** Removes a journal (and any temporary file left by a crash during a save). */
export async function removeJournal(path: string): Promise<void> {
  for (const p of [path, `${path}.tmp`]) {
    try {
      await unlink(p);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError('remove', p, error);
    }
  }
}
