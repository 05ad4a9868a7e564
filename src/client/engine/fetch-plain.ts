/**
 * `fetchPlain()`: plain mode, for a server that does not honour Range. One stream of the whole
 * file; the bytes already held (the prefix) are skipped, not appended again.
 */
import type { RangeResponse } from '../transport/range-request.js';
import { fetchClaim } from './fetch-claim.js';
import type { Run } from './run.js';
import type { Transfer } from './transfer.js';

/** Fetches a run from `res` (a 200). Never throws: a failure is recorded in the run. */
export async function fetchPlain(t: Transfer, run: Run, res: RangeResponse): Promise<void> {
  const { store, scheduler } = run;
  const start = store.heldPrefix;
  try {
    // Bytes past the held prefix are fetched again in order; forget them.
    await store.forget(start);
  } catch (error) {
    res.body.destroy();
    run.fail(error);
    return;
  }
  const saveTimer = setInterval(() => store.saveSoon(), t.settings.saveInterval);
  const claim = scheduler.claim(start, store.size ?? Infinity);
  t.emit('downloading');
  try {
    await fetchClaim(t, run, claim, res, 0);
  } catch (error) {
    run.fail(error);
  } finally {
    scheduler.release(claim);
    clearInterval(saveTimer);
  }
  if (store.size === undefined && run.failure === undefined && !run.signal.aborted) {
    store.setSize(claim.cursor);
  }
}
