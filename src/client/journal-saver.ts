/**
 * Saving a run's journal. Two kinds of save keep the journal true whatever stops the process:
 * - a synced save (house rule 8): the spans are read first, then the data is fdatasync'd, then a
 *   journal claiming them is written, fsync'd and renamed over the old one. A crash of the machine
 *   at any point leaves a journal that claims only bytes on disk.
 * - a live save: the journal keeps the synced spans as `done` and adds every span written so far
 *   as `live` spans for this boot; it is renamed into place without any fsync. A killed process
 *   loses nothing it wrote (the page cache holds it); after a crash of the machine the boot id
 *   differs and only `done` is trusted (core `heldSpans()`).
 * Live saves cost no disk flush, so they can run often (a kill -9 re-fetches little) without
 * holding the download to the disk's write speed.
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

/**
 * Saves now. The save syncs the data when `options.sync` says so, with `--sync`, where the boot id
 * is unknown, and once `syncInterval` has passed since the last synced save; else it is live.
 */
export async function saveRun(
  t: Transfer,
  run: Run,
  options: { sync?: boolean } = {},
): Promise<void> {
  if (run.closed) return;
  const done = run.done;
  const now = t.now();
  run.unsaved = 0;
  run.savedAt = now;
  const boot = t.boot;
  const sync =
    options.sync === true ||
    t.settings.sync ||
    boot === undefined ||
    now - run.syncedAt >= t.settings.syncInterval;
  if (!sync) {
    run.journal = { ...run.journal, done: run.synced, live: { boot, done } };
    await saveJournal(t.paths.journal, run.journal, { sync: false });
    return;
  }
  run.syncedAt = now;
  try {
    await run.fh.datasync();
  } catch (error) {
    throw fsError('write', t.paths.part, error);
  }
  run.synced = done;
  run.journal = { ...run.journal, done, live: undefined };
  await saveJournal(t.paths.journal, run.journal);
}
