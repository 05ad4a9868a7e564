/**
 * The files of a download on disk: `OUT.part` (the data, written at byte offsets) beside
 * `OUT.part.json` (the durable journal) and `OUT.part.live.json` (the live journal).
 * `discardPart()` deletes all three when the data cannot be used.
 */
import { constants } from 'node:fs';
import { access, unlink } from 'node:fs/promises';
import { fsError } from './fs-error.js';
import { removeJournal } from './journal-file.js';

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
