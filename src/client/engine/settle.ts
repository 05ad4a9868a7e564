/**
 * The end of a pass. `settleRun()` runs after the connections stop: it saves the journal (synced
 * when the pass stops short: a person who paused or pressed Ctrl-C may shut the machine down
 * next), and reports why the pass stopped unless every byte is held (a body without a length
 * that passed `maxSize` is deleted instead). `finishRun()` then has the store verify the file and
 * rename it into place (`PartStore.finish()`).
 */
import { RangedError, SizeLimitError } from '../../errors.js';
import type { Run } from './run.js';
import { stoppedError } from './stops.js';
import type { Transfer } from './transfer.js';

/**
 * After the connections stop: saves again, and closes the part file when the pass cannot finish.
 * Throws the run's failure, the abort reason or a save error; resolves when every byte is held
 * and `finishRun()` may go on.
 */
export async function settleRun(t: Transfer, run: Run): Promise<void> {
  const { signal, store } = run;
  const failure = run.failure;
  if (failure instanceof SizeLimitError && failure.size === undefined) {
    // A body without a length passed maxSize: its bytes are unusable (any rerun would fetch them
    // again and stop at the same limit), so nothing is saved; the part file and journals go.
    await store.discard();
    throw failure;
  }
  let saveError: unknown;
  try {
    await store.save({ sync: run.failure !== undefined || signal.aborted });
  } catch (error) {
    saveError = error;
  }
  if (run.failure === undefined && !signal.aborted && saveError === undefined) return;
  await store.close();
  if (run.failure !== undefined) throw run.failure;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof RangedError ? reason : stoppedError(t.settings.output, t.paths.journal);
  }
  throw saveError;
}

/** Every byte is held: sync (with `sync`), verify, rename, remove the journals. */
export async function finishRun(t: Transfer, run: Run): Promise<{ size: number; url: string }> {
  const { output, force, checksum } = t.settings;
  const size = await run.store.finish({
    output,
    force,
    checksum,
    onVerifying: () => t.emit('verifying'),
  });
  t.show(undefined);
  return { size, url: run.target };
}
