/**
 * `fetchSegmented()`: segmented mode. The run's `Scheduler` plans the segments and hands out
 * work; this module runs one worker (connection) per allowed connection over it, samples their
 * speeds on a timer and reconnects the ones the scheduler finds too slow.
 */
import { ProtocolError } from '../../errors.js';
import type { RangeResponse } from '../transport/range-request.js';
import type { Claim } from './claim.js';
import { MAX_SLOW_RESTARTS, SPEED_TICK } from './defaults.js';
import { fetchClaim } from './fetch-claim.js';
import type { Run } from './run.js';
import { Retire } from './stops.js';
import type { Transfer } from './transfer.js';

/**
 * Fetches every missing byte of a run over up to the scheduler's limit of connections. `first`
 * is the probe's response, which serves the segment starting at `claimStart`. Never throws: a
 * failure is recorded in the run (see `settleRun()`).
 */
export async function fetchSegmented(
  t: Transfer,
  run: Run,
  first: { claimStart: number; bodyStart: number; res: RangeResponse },
): Promise<void> {
  const { store, scheduler } = run;
  const size = store.size as number;
  const saveTimer = setInterval(() => store.saveSoon(), t.settings.saveInterval);
  const speedTimer = setInterval(() => checkSpeeds(t, run), SPEED_TICK);
  let firstRes: RangeResponse | undefined = first.res;
  // One listener for every idle worker (one each would trip Node's 10-listener warning).
  const wakeOnAbort = () => scheduler.wakeIdle();
  run.signal.addEventListener('abort', wakeOnAbort);
  t.emit('downloading');
  try {
    while (store.heldBytes < size) {
      // Round 2+ happens only when work came back to the pool after the other connections had
      // left (a refused extra connection): plan again from what is missing.
      scheduler.plan(size, store.done);
      const workers: Promise<void>[] = [];
      if (firstRes !== undefined) {
        const claim = scheduler.claimAt(first.claimStart);
        if (claim !== undefined) {
          workers.push(worker(t, run, claim, { res: firstRes, bodyStart: first.bodyStart }));
          firstRes = undefined;
        }
      }
      while (
        workers.length < scheduler.limit &&
        (scheduler.pooled.length > 0 || workers.length > 0)
      ) {
        workers.push(worker(t, run, undefined, undefined));
      }
      const before = store.heldBytes;
      await Promise.allSettled(workers);
      if (run.signal.aborted || run.failure !== undefined) break;
      if (store.heldBytes === before && store.heldBytes < size) {
        throw new ProtocolError(`Cannot download "${t.url}": no connection made progress`);
      }
    }
  } catch (error) {
    run.fail(error);
  } finally {
    clearInterval(saveTimer);
    clearInterval(speedTimer);
    run.signal.removeEventListener('abort', wakeOnAbort);
  }
  firstRes?.body.destroy();
}

/** One connection: fetches claims until there is nothing left to take, steal or race. */
async function worker(
  t: Transfer,
  run: Run,
  first: Claim | undefined,
  opened: { res: RangeResponse; bodyStart: number } | undefined,
): Promise<void> {
  const { scheduler, signal } = run;
  let claim = first;
  let response = opened;
  try {
    for (;;) {
      if (claim === undefined && !signal.aborted) claim = scheduler.take();
      if (claim === undefined) {
        // Nothing to steal or race yet. While a segment that might turn out slow is still
        // running (its speed is measured after a second), stay around to race it.
        if (signal.aborted || !scheduler.raceable) return;
        await scheduler.nextChange(SPEED_TICK);
        if (signal.aborted) return;
        continue;
      }
      try {
        await fetchClaim(t, run, claim, response?.res, response?.bodyStart ?? claim.cursor);
      } finally {
        scheduler.release(claim); // an idle worker may now leave, or find work
      }
      claim = undefined;
      response = undefined;
    }
  } catch (error) {
    if (error instanceof Retire) {
      t.notice(`${error.message}: continuing with ${scheduler.limit} connection(s)`);
      return;
    }
    if (!signal.aborted) run.fail(error);
  }
}

/** Samples every claim's speed and reconnects those that stay far slower than the others. */
function checkSpeeds(t: Transfer, run: Run): void {
  for (const { claim, restarts } of run.scheduler.sampleSpeeds(t.now())) {
    t.notice(
      `A connection at byte ${claim.cursor} is much slower than the others: reconnecting (${restarts}/${MAX_SLOW_RESTARTS})`,
    );
    claim.stop?.();
  }
}
