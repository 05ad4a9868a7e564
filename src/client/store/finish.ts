/**
 * The end of a pass. `settleRun()` runs after the connections stop: it saves the journal (synced
 * when the pass stops short: a person who paused or pressed Ctrl-C may shut the machine down
 * next), and reports why the pass stopped unless every byte is held (a body without a length
 * that passed `maxSize` is deleted instead). `finishRun()` then verifies the file and only then
 * renames `OUT.part` to `OUT`; with `sync` it first makes the data durable (house rule 8), so
 * that a crash of the machine never leaves an incomplete `OUT`.
 */
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { spanBytes } from '../../core/segments.js';
import {
  ChecksumMismatchError,
  FileSystemError,
  RangedError,
  SizeLimitError,
} from '../../errors.js';
import { stoppedError } from '../engine/stops.js';
import type { Run, Transfer } from '../engine/transfer.js';
import { hashFile } from './checksum.js';
import { fsError } from './fs-error.js';
import { removeJournal, saveJournal, syncDirectory } from './journal-file.js';
import { saveRun, savesSettled, syncAlways } from './journal-saver.js';
import { discardPart, fileExists } from './part-file.js';

/**
 * After the connections stop: waits for a save in progress, saves again, and closes the part file
 * when the pass cannot finish. Throws the run's failure, the abort reason or a save error;
 * resolves when every byte is held and `finishRun()` may go on.
 */
export async function settleRun(t: Transfer, run: Run): Promise<void> {
  const signal = run.controller.signal;
  const failure = run.failure;
  if (failure instanceof SizeLimitError && failure.size === undefined) {
    // A body without a length passed maxSize: its bytes are unusable (any rerun would fetch them
    // again and stop at the same limit), so nothing is saved; the part file and journals go.
    run.closed = true; // no save starts from now on
    await savesSettled(run);
    await t.digest?.detach();
    await run.fh.close();
    await discardPart(t.paths);
    throw failure;
  }
  let saveError: unknown;
  try {
    await saveRun(t, run, { sync: run.failure !== undefined || signal.aborted });
  } catch (error) {
    saveError = error;
  }
  if (run.failure === undefined && !signal.aborted && saveError === undefined) return;
  run.closed = true;
  await t.digest?.detach();
  await run.fh.close();
  if (run.failure !== undefined) throw run.failure;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof RangedError ? reason : stoppedError(t.settings.output, t.paths.journal);
  }
  throw saveError;
}

/** Every byte is held: sync (with `sync`), verify, rename, remove the journals. */
export async function finishRun(t: Transfer, run: Run): Promise<{ size: number; url: string }> {
  const output = t.settings.output;
  const size = run.journal.size ?? spanBytes(run.done);
  // Also without --sync when the pass overwrote bytes it once held (`forgetBytes()`): a crash
  // must not leave old bytes where new writes were lost.
  const sync = syncAlways(t) || run.syncBeforeRename;
  let actual: string | undefined;
  if (!run.closed) {
    try {
      // A file of unknown length may have held a longer earlier stream.
      if ((await run.fh.stat()).size !== size) await run.fh.truncate(size);
      if (sync) {
        await run.fh.sync().catch(async (error: unknown) => {
          // Pages that failed to reach the disk may be dropped: the live claim must go.
          await removeJournal(t.paths.live).catch(() => undefined);
          throw error;
        });
      }
      // The hash has followed the prefix; only what it has not reached yet is read here.
      actual = await t.digest?.digest(size);
    } catch (error) {
      throw fsError('write', t.paths.part, error);
    } finally {
      run.closed = true;
      await t.digest?.detach();
      await run.fh.close();
    }
    if (sync) {
      const all = [{ start: 0, end: size }];
      await saveJournal(t.paths.journal, { ...run.journal, size, done: all, boot: undefined });
    }
  }
  t.emit('verifying');
  const checksum = t.settings.checksum;
  if (checksum !== undefined) {
    actual ??= await hashFile(t.paths.part, checksum.algorithm);
    if (actual !== checksum.hex) {
      await discardPart(t.paths);
      throw new ChecksumMismatchError(
        `Cannot verify "${output}": ${checksum.algorithm} is ${actual}, expected ${checksum.hex}; the download was discarded`,
        { expected: checksum.hex, actual },
      );
    }
  }
  if (!t.settings.force && (await fileExists(output))) {
    throw new FileSystemError(
      `Cannot save "${output}": the file exists (use --force to replace it)`,
    );
  }
  try {
    await rename(t.paths.part, output);
  } catch (error) {
    throw fsError('rename', t.paths.part, error);
  }
  if (sync) await syncDirectory(dirname(output));
  await removeJournal(t.paths.live);
  await removeJournal(t.paths.journal);
  t.run = undefined;
  return { size, url: run.url };
}
