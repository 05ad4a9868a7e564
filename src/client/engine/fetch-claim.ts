/**
 * `fetchClaim()`: one connection fetching its claim `[cursor, end)` into the part file, with
 * retries that resume at the byte where a failed attempt stopped. The end can move while it runs
 * (work stealing lowers it, a won race stops it), so every chunk is cut to the current end.
 */
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isExpiredTarget, isRefusal, nextDelay } from '../../core/backoff.js';
import type { Asked } from '../../core/resume.js';
import { addSpan } from '../../core/segments.js';
import {
  HttpStatusError,
  NetworkError,
  ProtocolError,
  RangedError,
  SizeLimitError,
} from '../../errors.js';
import { fsError } from '../store/fs-error.js';
import { forgetBytes, scheduleSave } from '../store/journal-saver.js';
import type { RangeResponse } from '../transport/range-request.js';
import {
  type CheckedResponse,
  formatSeconds,
  isRetryable,
  requestChecked,
} from './checked-request.js';
import { RestartNeeded, Retire, type StatusFailure } from './stops.js';
import type { Claim, Run, Transfer } from './transfer.js';

/**
 * Fetches `[claim.cursor, claim.end)` with retries. `res` is an already checked response whose
 * body starts at `bodyStart`. A server refusing this extra connection gives the rest back to the
 * pool and throws Retire.
 */
export async function fetchClaim(
  t: Transfer,
  run: Run,
  claim: Claim,
  res: RangeResponse | undefined,
  bodyStart: number,
): Promise<void> {
  const retries = t.settings.retries;
  const signal = run.controller.signal;
  let response = res;
  let start = bodyStart;
  let attempt = 0;
  while (claim.cursor < claim.end) {
    const before = claim.cursor;
    try {
      if (response === undefined) {
        const opened = await reopen(t, run, claim);
        response = opened.res;
        start = opened.start;
      }
      await pump(t, run, claim, response, start);
      response = undefined;
      if (claim.cursor < claim.end && claim.end !== Infinity) {
        throw new NetworkError(
          `Cannot download "${t.url}": the connection closed at byte ${claim.cursor} of ${claim.end}`,
        );
      }
      if (claim.end === Infinity) claim.end = claim.cursor; // a plain stream of unknown length ended
    } catch (error) {
      response?.body.destroy();
      response = undefined;
      if (signal.aborted) throw signal.reason;
      if (claim.restarting) {
        claim.restarting = false; // a slow connection stopped on purpose: reopen at once
        continue;
      }
      if (claim.cursor > before) attempt = 0;
      if (
        error instanceof HttpStatusError &&
        isRefusal(error.status, { ranged: run.ranged, active: run.active.size })
      ) {
        // A server that refuses extra connections (403/429/503 on the 2nd..Nth): give the rest
        // of this segment back and carry on with fewer.
        run.active.delete(claim);
        if (claim.cursor < claim.end) {
          run.pool.push({ start: claim.cursor, end: claim.end });
          run.pool.sort((a, b) => a.start - b.start);
        }
        claim.end = claim.cursor;
        t.maxConnections = Math.max(1, t.maxConnections - 1);
        throw new Retire(`Connection refused by the server (${error.status})`, {
          status: error.status,
          url: error.url,
        });
      }
      if (!isRetryable(error)) throw error;
      attempt++;
      if (attempt > retries) {
        if (error instanceof RangedError)
          error.message = `${error.message} (after ${retries} retries)`;
        throw error;
      }
      const delay = nextDelay(attempt, t.policy, (error as StatusFailure).retryAfterMs);
      t.notice(
        `${(error as Error).message}; retrying in ${formatSeconds(delay)} (${attempt}/${retries})`,
      );
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw signal.reason;
    }
  }
}

/** A new request for the rest of a claim; in plain mode, the whole file again (skipping). */
async function reopen(
  t: Transfer,
  run: Run,
  claim: Claim,
): Promise<{ res: RangeResponse; start: number }> {
  if (run.ranged) {
    const asked: Asked = { start: claim.cursor, end: claim.end, ranged: true };
    const { res, verdict } = await requestResolving(t, run, asked);
    if (verdict.kind === 'partial') return { res, start: verdict.start };
    res.body.destroy();
    if (verdict.kind === 'full' && verdict.sameVersion) {
      throw new ProtocolError(`Cannot download "${t.url}": the server stopped honouring Range`);
    }
    throw new RestartNeeded(
      verdict.kind === 'changed' ? verdict.reason : `unexpected ${verdict.kind} response`,
    );
  }
  const asked: Asked = { start: 0, end: undefined, ranged: false };
  const { res, verdict } = await requestResolving(t, run, asked);
  if (
    verdict.kind !== 'full' ||
    (run.journal.size !== undefined && verdict.version.size !== run.journal.size)
  ) {
    res.body.destroy();
    throw new RestartNeeded(verdict.kind === 'changed' ? verdict.reason : 'the file size changed');
  }
  if (!verdict.sameVersion && claim.cursor > 0) {
    // No validator proves that this stream is the same version: take every byte from it again.
    claim.cursor = 0;
    t.digest?.reset();
    try {
      await forgetBytes(t, run, 0);
    } catch (error) {
      res.body.destroy();
      throw error;
    }
  }
  return { res, start: 0 };
}

/**
 * A request to the URL redirects led to. When that target answers 403 or 410 (a signed URL
 * that expired), the original URL is resolved again, once, and the new target is used from then
 * on; its response is checked against the run's validators like any other.
 */
async function requestResolving(t: Transfer, run: Run, asked: Asked): Promise<CheckedResponse> {
  const options = { signal: run.controller.signal, retry: false };
  const target = run.url;
  try {
    return await requestChecked(t, target, asked, run.version, options);
  } catch (error) {
    if (
      !(error instanceof HttpStatusError) ||
      !isExpiredTarget(error.status, { redirected: target !== t.url })
    ) {
      throw error;
    }
    const checked = await requestChecked(t, t.url, asked, run.version, options);
    if (run.url === target) {
      run.url = checked.res.url;
      t.notice(
        `The redirect target answered ${error.status}: resolved "${t.url}" again, now "${run.url}"`,
      );
    }
    return checked;
  }
}

/**
 * Streams a body into the part file at its offsets, up to the claim's (moving) end. The body is
 * read into one reused buffer and the socket waits while a chunk is written (backpressure), so
 * memory stays flat whatever the file size. Bytes before the claim's cursor are skipped.
 */
async function pump(
  t: Transfer,
  run: Run,
  claim: Claim,
  res: RangeResponse,
  bodyStart: number,
): Promise<void> {
  const signal = run.controller.signal;
  const saveBytes = t.settings.saveBytes;
  const saveGap = t.settings.saveInterval / 20;
  const write = async (data: Buffer, at: number): Promise<boolean> => {
    if (t.throttle !== undefined) await t.throttle.take(data.length, signal);
    if (signal.aborted) return false;
    await writeAt(run.fh, data, at, t.paths.part);
    t.fetchedBytes += data.length;
    claim.cursor = Math.max(claim.cursor, at + data.length);
    run.done = addSpan(run.done, { start: at, end: at + data.length });
    t.digest?.wrote(data, at);
    run.unsaved += data.length;
    // Save after `saveBytes` per connection, but not more often than every 20th of
    // `saveInterval`: on a fast link a kill -9 then re-fetches about 50 ms of data, not 1 MiB,
    // and the journal is not rewritten thousands of times a second.
    if (
      run.unsaved >= saveBytes * Math.max(1, run.active.size) &&
      t.now() - run.savedAt >= saveGap
    ) {
      scheduleSave(t, run);
    }
    overtake(claim);
    return claim.cursor < claim.end;
  };
  let position = bodyStart;
  claim.stop = () => res.body.destroy();
  try {
    await res.body.read(
      (chunk) => {
        let data = chunk;
        let at = position;
        position += chunk.length;
        claim.received += chunk.length;
        if (at < claim.cursor) {
          const skip = Math.min(data.length, claim.cursor - at);
          data = data.subarray(skip);
          at += skip;
          t.fetchedBytes += skip;
        }
        if (data.length === 0) return true;
        if (at >= claim.end) return false;
        if (at + data.length > claim.end) data = data.subarray(0, claim.end - at);
        // A declared length was checked against maxSize on the head; a body without one (a plain
        // stream) stops before a byte past the limit is written (`settleRun()` deletes the rest).
        if (at + data.length > t.settings.maxSize) throw tooLong(t);
        claim.reserved = at + data.length;
        return write(data, at);
      },
      { stallTimeout: t.settings.stallTimeout },
    );
  } finally {
    claim.stop = undefined;
  }
}

function tooLong(t: Transfer): SizeLimitError {
  const limit = t.settings.maxSize;
  return new SizeLimitError(
    `Cannot download "${t.url}": the body passed the limit of ${limit} bytes without a declared length; the partial data was deleted`,
    { limit, size: undefined },
  );
}

/**
 * After a write by `claim` in a race: once its cursor reaches its rival's, every byte the rival
 * still wants is written or will be written by `claim`, so the rival stops.
 */
function overtake(claim: Claim): void {
  const rival = claim.rival;
  if (rival === undefined || claim.cursor < rival.cursor) return;
  claim.rival = undefined;
  rival.rival = undefined;
  rival.end = Math.min(rival.end, rival.cursor);
  rival.stop?.();
}

async function writeAt(
  fh: FileHandle,
  data: Buffer,
  position: number,
  path: string,
): Promise<void> {
  let offset = 0;
  try {
    while (offset < data.length) {
      const { bytesWritten } = await fh.write(
        data,
        offset,
        data.length - offset,
        position + offset,
      );
      offset += bytesWritten;
    }
  } catch (error) {
    throw fsError('write', path, error);
  }
}
