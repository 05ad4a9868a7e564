/**
 * Saving a run's journal in the commit order of house rule 8: the spans are read first, then the
 * data is fdatasync'd, then the journal that claims them replaces the old one. A crash at any
 * point leaves a journal that claims only bytes that are on disk.
 */
import { fsError } from './fs-error.js';
import { saveJournal } from './journal-file.js';
import { failRun, type Run, type Transfer } from './transfer.js';

/** Starts a save unless one is running (timer and byte-count triggers); a failure stops the run. */
export function scheduleSave(t: Transfer, run: Run): void {
  if (run.saving !== undefined || run.closed) return;
  run.saving = saveRun(t, run)
    .catch((error: unknown) => failRun(run, error))
    .finally(() => {
      run.saving = undefined;
    });
}

/** Saves now: fdatasync the part file, then replace the journal with the spans read before. */
export async function saveRun(t: Transfer, run: Run): Promise<void> {
  if (run.closed) return;
  const done = run.done;
  run.unsaved = 0;
  run.savedAt = t.now();
  try {
    await run.fh.datasync();
  } catch (error) {
    throw fsError('write', t.paths.part, error);
  }
  run.journal = { ...run.journal, done };
  await saveJournal(t.paths.journal, run.journal);
}
