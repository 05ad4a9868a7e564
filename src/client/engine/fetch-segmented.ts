/**
 * `fetchSegmented()`: segmented mode. Plans segments (core `planSegments()`), runs one worker per
 * connection over them, and when a worker runs out of work it steals half of the largest
 * remainder or races the slowest tail (core `idleAction()`); connections far slower than the
 * others are reconnected (core `slowSegments()`).
 */
import { addSample, rate } from '../../core/progress.js';
import {
  connectionsFor,
  idleAction,
  planSegments,
  type Span,
  slowSegments,
  spanBytes,
} from '../../core/segments.js';
import { ProtocolError } from '../../errors.js';
import { scheduleSave } from '../store/journal-saver.js';
import type { RangeResponse } from '../transport/range-request.js';
import { fetchClaim } from './fetch-claim.js';
import { Retire } from './stops.js';
import { type Claim, failRun, newClaim, type Run, type Transfer } from './transfer.js';

/** How often (ms) every connection's speed is sampled for the tail decisions. */
const SPEED_TICK = 250;
/** Restarts of one slow connection before it is left alone. */
const MAX_SLOW_RESTARTS = 2;

/**
 * Fetches every missing byte of a run over up to `connections` workers. `first` is the probe's
 * response, which serves the segment starting at `claimStart`. Never throws: a failure is
 * recorded in the run (see `settleRun()`).
 */
export async function fetchSegmented(
  t: Transfer,
  run: Run,
  first: { claimStart: number; bodyStart: number; res: RangeResponse },
): Promise<void> {
  const size = run.journal.size as number;
  t.maxConnections = connectionsFor(size, t.settings.connections);
  const minBytes = t.settings.minSegment;
  const saveTimer = setInterval(() => scheduleSave(t, run), t.settings.saveInterval);
  const speedTimer = setInterval(() => checkSpeeds(t, run), SPEED_TICK);
  let firstRes: RangeResponse | undefined = first.res;
  // One listener for every idle worker (one each would trip Node's 10-listener warning).
  const wakeOnAbort = () => wakeIdle(run);
  run.controller.signal.addEventListener('abort', wakeOnAbort);
  t.emit('downloading');
  try {
    while (spanBytes(run.done) < size) {
      // Round 2+ happens only when work came back to the pool after the other connections had
      // left (a refused extra connection): plan again from what is missing.
      const plan = planSegments(size, { connections: t.maxConnections, minBytes, done: run.done });
      const workers: Promise<void>[] = [];
      if (firstRes !== undefined) {
        const index = plan.findIndex((s) => s.start === first.claimStart);
        const span = plan.splice(Math.max(index, 0), 1)[0] as Span;
        const claim = newClaim(span.start, span.end);
        run.active.add(claim);
        run.pool = plan;
        workers.push(worker(t, run, claim, { res: firstRes, bodyStart: first.bodyStart }));
        firstRes = undefined;
      } else {
        run.pool = plan;
      }
      while (workers.length < t.maxConnections && (run.pool.length > 0 || workers.length > 0)) {
        workers.push(worker(t, run, undefined, undefined));
      }
      const before = spanBytes(run.done);
      await Promise.allSettled(workers);
      if (run.controller.signal.aborted || run.failure !== undefined) break;
      if (spanBytes(run.done) === before && spanBytes(run.done) < size) {
        throw new ProtocolError(`Cannot download "${t.url}": no connection made progress`);
      }
    }
  } catch (error) {
    failRun(run, error);
  } finally {
    clearInterval(saveTimer);
    clearInterval(speedTimer);
    run.controller.signal.removeEventListener('abort', wakeOnAbort);
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
  let claim = first;
  let response = opened;
  try {
    for (;;) {
      claim ??= takeWork(t, run);
      if (claim === undefined) {
        // Nothing to steal or race yet. While a segment that might turn out slow is still
        // running (its speed is measured after a second), stay around to race it.
        if (![...run.active].some((c) => !c.raced && c.cursor < c.end)) return;
        await nextChange(run, SPEED_TICK);
        if (run.controller.signal.aborted) return;
        continue;
      }
      try {
        await fetchClaim(t, run, claim, response?.res, response?.bodyStart ?? claim.cursor);
      } finally {
        run.active.delete(claim);
        if (claim.rival !== undefined) claim.rival.rival = undefined;
        claim.rival = undefined;
        wakeIdle(run); // an idle worker may now leave, or find work
      }
      claim = undefined;
      response = undefined;
    }
  } catch (error) {
    if (error instanceof Retire) {
      t.notice(`${error.message}: continuing with ${t.maxConnections} connection(s)`);
      return;
    }
    if (!run.controller.signal.aborted) failRun(run, error);
  }
}

/** Idle workers of a run, waiting for a claim to end or for the next speed sample. */
const idleWorkers = new WeakMap<Run, Set<() => void>>();

/** Resolves after `ms`, or when a claim of `run` ends or the run stops (`wakeIdle()`). */
function nextChange(run: Run, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let waiters = idleWorkers.get(run);
    if (waiters === undefined) {
      waiters = new Set();
      idleWorkers.set(run, waiters);
    }
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiters.add(done);
    if (run.controller.signal.aborted) done();
  });
}

function wakeIdle(run: Run): void {
  for (const wake of [...(idleWorkers.get(run) ?? [])]) wake();
}

/**
 * Takes the next segment from the pool; else steals half of the largest remainder; else races
 * the remainder expected to finish last (core idleAction()).
 */
function takeWork(t: Transfer, run: Run): Claim | undefined {
  if (run.controller.signal.aborted) return undefined;
  const span = run.pool.shift();
  if (span !== undefined) {
    const claim = newClaim(span.start, span.end);
    run.active.add(claim);
    return claim;
  }
  const active = [...run.active];
  const action = idleAction(
    active.map((c) => ({
      cursor: Math.max(c.cursor, c.reserved),
      end: c.end,
      bytesPerSecond: speedOf(c),
      raced: c.raced,
    })),
    { minBytes: t.settings.minSegment },
  );
  if (action.kind === 'none') return undefined;
  const victim = active[action.index] as Claim;
  if (action.kind === 'steal') {
    const claim = newClaim(action.at, victim.end);
    victim.end = action.at; // the victim stops at `at` (its sink re-reads `end` per chunk)
    run.active.add(claim);
    return claim;
  }
  // A race: both fetch the same bytes from the same version (every 206 is checked against the
  // journal's validators), so writing them twice at the same offsets is harmless. Whichever
  // cursor gets ahead wins; the other is stopped (see `overtake()` in fetch-claim.ts).
  const claim = newClaim(victim.cursor, victim.end);
  claim.rival = victim;
  victim.rival = claim;
  claim.raced = true;
  victim.raced = true;
  run.active.add(claim);
  t.races++;
  return claim;
}

/** Samples every claim's speed and restarts those that stay far slower than the others. */
function checkSpeeds(t: Transfer, run: Run): void {
  const now = t.now();
  const claims = [...run.active];
  for (const c of claims) {
    c.samples = addSample(c.samples, { time: now, bytes: c.received }, { window: 3_000 });
  }
  const { slowSince, restart } = slowSegments(
    claims.map((c) => ({
      bytesPerSecond: speedOf(c),
      left: c.rival === undefined ? c.end - c.cursor : 0,
      slowSince: c.slowSince,
    })),
    { now, graceMs: t.settings.slowGrace, minBytes: t.settings.minSegment },
  );
  claims.forEach((c, i) => {
    c.slowSince = slowSince[i];
  });
  for (const i of restart) {
    const c = claims[i] as Claim;
    if (c.restarts >= MAX_SLOW_RESTARTS || c.stop === undefined) continue;
    c.restarts++;
    c.restarting = true;
    c.slowSince = undefined;
    c.samples = [];
    t.notice(
      `A connection at byte ${c.cursor} is much slower than the others: reconnecting (${c.restarts}/${MAX_SLOW_RESTARTS})`,
    );
    c.stop();
  }
}

/** A claim's speed once it has been sampled for a second or more; undefined before. */
function speedOf(claim: Claim): number | undefined {
  const first = claim.samples[0];
  const last = claim.samples.at(-1);
  if (first === undefined || last === undefined || last.time - first.time < 1_000) return undefined;
  return rate(claim.samples);
}
