/**
 * The files of a download on disk: `OUT.part` (the data, written at byte offsets) beside
 * `OUT.part.json` (the durable journal) and `OUT.part.live.json` (the live journal). `openRun()`
 * opens the part file for a pass; `discardPart()` deletes all three when the data cannot be used.
 */
import { constants } from 'node:fs';
import { access, type FileHandle, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Journal } from '../../core/journal.js';
import type { Run, Transfer } from '../engine/transfer.js';
import { fsError } from './fs-error.js';
import { removeJournal, saveJournal, syncDirectory } from './journal-file.js';

export interface PartPaths {
  part: string;
  journal: string;
  live: string;
}

/** The part and journal paths beside `output`. */
export function partPaths(output: string): PartPaths {
  return {
    part: `${output}.part`,
    journal: `${output}.part.json`,
    live: `${output}.part.live.json`,
  };
}

/**
 * Opens `OUT.part` for a pass. A new journal (`resuming` false) gets a fresh part file sized to
 * the file, made durable with its folder, and then the journal is written: a journal never
 * names a part file that a crash could lose. A resumed part file is fdatasync'd first: the bytes
 * an earlier process of this boot wrote (what the live journal claims) are then durable too, and
 * the durable journal claims every held byte.
 */
export async function openRun(
  t: Transfer,
  journal: Journal,
  options: { controller: AbortController; ranged: boolean; resuming: boolean; url: string },
): Promise<Run> {
  const part = t.paths.part;
  const { resuming } = options;
  let fh: FileHandle;
  try {
    fh = await open(part, resuming ? 'r+' : 'w+');
  } catch (error) {
    throw fsError('write', part, error);
  }
  try {
    try {
      if (resuming) await fh.datasync();
      else {
        if (journal.size !== undefined) await fh.truncate(journal.size);
        await fh.sync();
        await syncDirectory(dirname(part));
      }
    } catch (error) {
      // Bytes the live journal claims may be lost: it must not be trusted again.
      if (resuming) await removeJournal(t.paths.live).catch(() => undefined);
      throw fsError('write', part, error);
    }
    // A new part file, or every held byte durable now: the durable journal says so.
    await saveJournal(t.paths.journal, { ...journal, boot: undefined });
  } catch (error) {
    await fh.close();
    throw error;
  }
  const run: Run = {
    controller: options.controller,
    fh,
    journal,
    version: { size: journal.size, etag: journal.etag, lastModified: journal.lastModified },
    ranged: options.ranged,
    done: journal.done.map((s) => ({ ...s })),
    synced: journal.done,
    syncedAt: t.now(),
    generation: 0,
    syncBeforeRename: false,
    syncFailed: false,
    pool: [],
    active: new Set(),
    url: options.url,
    unsaved: 0,
    savedAt: t.now(),
    syncing: undefined,
    liveSaving: undefined,
    closed: false,
    failure: undefined,
  };
  t.run = run;
  if (t.digest !== undefined) {
    // A fresh part file holds none of the bytes hashed so far.
    if (!resuming) t.digest.reset();
    t.digest.attach({ fh, prefix: () => prefixOf(run) });
  }
  return run;
}

/** End of the contiguous finished prefix (`run.done` is sorted and merged). */
function prefixOf(run: Run): number {
  const first = run.done[0];
  return first !== undefined && first.start === 0 ? first.end : 0;
}

/** Deletes the part file and the journal (a restart, or data that failed verification). */
export async function discardPart(paths: PartPaths): Promise<void> {
  await removeJournal(paths.live);
  await removeJournal(paths.journal);
  try {
    await unlink(paths.part);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw fsError('remove', paths.part, error);
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
