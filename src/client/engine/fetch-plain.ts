/**
 * `fetchPlain()`: plain mode, for a server that does not honour Range. One stream of the whole
 * file; the bytes already held (the prefix) are skipped, not appended again.
 */
import { heldPrefix } from '../../core/segments.js';
import { forgetBytes, scheduleSave } from '../store/journal-saver.js';
import type { RangeResponse } from '../transport/range-request.js';
import { fetchClaim } from './fetch-claim.js';
import { failRun, newClaim, type Run, type Transfer } from './transfer.js';

/** Fetches a run from `res` (a 200). Never throws: a failure is recorded in the run. */
export async function fetchPlain(t: Transfer, run: Run, res: RangeResponse): Promise<void> {
  t.maxConnections = 1;
  const claim = newClaim(heldPrefix(run.done), run.journal.size ?? Infinity);
  try {
    // Bytes past the held prefix are fetched again in order; forget them.
    await forgetBytes(t, run, claim.cursor);
  } catch (error) {
    res.body.destroy();
    failRun(run, error);
    return;
  }
  const saveTimer = setInterval(() => scheduleSave(t, run), t.settings.saveInterval);
  run.active.add(claim);
  t.emit('downloading');
  try {
    await fetchClaim(t, run, claim, res, 0);
  } catch (error) {
    failRun(run, error);
  } finally {
    run.active.delete(claim);
    clearInterval(saveTimer);
  }
  if (
    run.journal.size === undefined &&
    run.failure === undefined &&
    !run.controller.signal.aborted
  ) {
    run.journal = { ...run.journal, size: claim.cursor };
  }
}
