/**
 * Saving a run's two journals (core/journal.ts explains them):
 * - a synced save (house rule 8): the spans written so far are read, the part file is
 *   fdatasync'd, and only then does the durable journal (`OUT.part.json`) claim them; it is
 *   written to a temporary file, fsync'd and renamed over the old one. A crash of the machine at
 *   any point leaves a durable journal that claims only bytes on disk.
 * - a live save: the live journal (`OUT.part.live.json`) claims every span written so far, with
 *   this boot's id, renamed into place without any fsync. It costs no disk flush, so it runs often
 *   (a kill -9 re-fetches little) without holding the download to the disk's write speed, and it
 *   never touches the durable journal.
 * The two kinds run independently (different files): a long fdatasync never holds up live saves.
 */
import { spanBytes } from '../../core/segments.js';
import { failRun, type Run, type Transfer } from '../engine/transfer.js';
import { fsError } from './fs-error.js';
import { removeJournal, saveJournal } from './journal-file.js';

/** Whether every save must sync: with `--sync`, and where the boot id is unknown. */
export function syncAlways(t: Transfer): boolean {
  return t.settings.sync || t.boot === undefined;
}

/**
 * The periodic save (timer and byte-count triggers): a synced save when one is due (every
 * `syncInterval`, or every time with `syncAlways()`), else a live one; skipped while one of the
 * same kind is running. A failure stops the run.
 */
export function scheduleSave(t: Transfer, run: Run): void {
  if (run.closed) return;
  const now = t.now();
  run.unsaved = 0;
  run.savedAt = now;
  const always = syncAlways(t);
  if (run.syncing === undefined && (always || now - run.syncedAt >= t.settings.syncInterval)) {
    run.syncing = inBackground(run, syncedSave(t, run), () => {
      run.syncing = undefined;
    });
  } else if (!always && run.liveSaving === undefined) {
    run.liveSaving = inBackground(run, liveSave(t, run), () => {
      run.liveSaving = undefined;
    });
  }
}

/** A save nobody awaits: its failure stops the run, and `done` clears its slot in the run. */
function inBackground(run: Run, save: Promise<void>, done: () => void): Promise<void> {
  return save.catch((error: unknown) => failRun(run, error)).finally(done);
}

/**
 * Saves now, after the saves in flight: synced with `options.sync` or `syncAlways()`, else live.
 * Used when the connections have stopped.
 */
export async function saveRun(
  t: Transfer,
  run: Run,
  options: { sync?: boolean } = {},
): Promise<void> {
  await exclusive(run, async () => {
    if (run.closed) return;
    run.unsaved = 0;
    run.savedAt = t.now();
    if (options.sync === true || syncAlways(t)) await syncedSave(t, run);
    else await liveSave(t, run);
  });
}

/**
 * Runs `save` after the saves in flight, with both kinds held off meanwhile: no two saves ever
 * write the same journal at once.
 */
async function exclusive(run: Run, save: () => Promise<void>): Promise<void> {
  await savesSettled(run);
  const saving = save();
  const held = saving
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => {
      run.syncing = undefined;
      run.liveSaving = undefined;
    });
  run.syncing = held;
  run.liveSaving = held;
  return saving;
}

/** Resolves when no save is in flight (their failures are the run's, see `inBackground()`). */
export async function savesSettled(run: Run): Promise<void> {
  while (run.syncing !== undefined || run.liveSaving !== undefined) {
    await Promise.all([run.syncing, run.liveSaving]);
  }
}

async function liveSave(t: Transfer, run: Run): Promise<void> {
  const boot = t.boot;
  if (boot === undefined || run.syncFailed) return;
  await saveJournal(t.paths.live, { ...run.journal, done: run.done, boot }, { sync: false });
  // An fdatasync failed while this was written: the claim must not stay.
  if (run.syncFailed) await removeJournal(t.paths.live);
}

async function syncedSave(t: Transfer, run: Run): Promise<void> {
  // After a failed fdatasync a later one may succeed without the lost pages: claim nothing more.
  if (run.syncFailed) return;
  const done = run.done;
  const generation = run.generation;
  run.syncedAt = t.now();
  try {
    await run.fh.datasync();
  } catch (error) {
    // The failed pages may be dropped, and Linux reports the error once: no journal may go on
    // claiming bytes that were never synced (a live save in flight removes its own claim).
    run.syncFailed = true;
    await removeJournal(t.paths.live).catch(() => undefined);
    throw fsError('write', t.paths.part, error);
  }
  // A pass that forgot bytes while the data was synced (`forgetBytes()`) keeps what it has now.
  if (run.generation === generation) run.synced = done;
  await saveJournal(t.paths.journal, { ...run.journal, done: run.synced, boot: undefined });
}

/**
 * The pass forgets its written bytes from `keep` on (the stream starts again and will overwrite
 * them): both journals stop claiming them before this resolves, so before anything new is
 * written there (claims only shrink, so no data needs syncing), and the final file will be
 * synced before the rename, so that a crash cannot leave old bytes where new writes were lost.
 */
export async function forgetBytes(t: Transfer, run: Run, keep: number): Promise<void> {
  const clip = (spans: Run['done']) =>
    spans
      .filter((s) => s.start < keep)
      .map((s) => ({ start: s.start, end: Math.min(s.end, keep) }));
  const done = clip(run.done);
  if (spanBytes(done) === spanBytes(run.done)) return; // nothing held from `keep` on
  run.done = done;
  run.synced = clip(run.synced);
  run.generation++;
  run.syncBeforeRename = true;
  await exclusive(run, async () => {
    await saveJournal(t.paths.journal, { ...run.journal, done: run.synced, boot: undefined });
    await liveSave(t, run);
  });
}
