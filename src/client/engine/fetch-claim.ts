/**
 * `fetchClaim()`: one connection fetching its claim `[cursor, end)` into the part store, with
 * retries (`Retries`) that resume at the byte where a failed attempt stopped. The end can move
 * while it runs (work stealing lowers it, a won race stops it), so every chunk is cut to the
 * current end. The pump reads, throttles and hands the bytes to the store, nothing else.
 */
import { isExpiredTarget, isRefusal } from '../../core/backoff.js';
import type { Asked } from '../../core/resume.js';
import { HttpStatusError, NetworkError, ProtocolError, SizeLimitError } from '../../errors.js';
import type { RangeResponse } from '../transport/range-request.js';
import { type CheckedResponse, requestChecked } from './checked-request.js';
import type { Claim } from './claim.js';
import { Retries } from './retry.js';
import type { Run } from './run.js';
import { RestartNeeded, Retire } from './stops.js';
import type { Transfer } from './transfer.js';

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
  const signal = run.signal;
  const retries = new Retries({
    limit: t.settings.retries,
    policy: t.policy,
    notice: (message) => t.notice(message),
    sleep: t.sleep,
  });
  let response = res;
  let start = bodyStart;
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
      if (claim.end === Infinity) claim.cutAt(claim.cursor); // a plain stream of unknown length ended
    } catch (error) {
      response?.body.destroy();
      response = undefined;
      if (signal.aborted) throw signal.reason;
      if (claim.takeRestart()) continue; // a slow connection stopped on purpose: reopen at once
      if (claim.cursor > before) retries.progressed();
      if (
        error instanceof HttpStatusError &&
        isRefusal(error.status, { ranged: run.ranged, active: run.scheduler.activeCount })
      ) {
        // A server that refuses extra connections (403/429/503 on the 2nd..Nth): give the rest
        // of this segment back and carry on with fewer.
        run.scheduler.refuse(claim);
        throw new Retire(`Connection refused by the server (${error.status})`, {
          status: error.status,
          url: error.url,
        });
      }
      await retries.after(error, signal);
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
    (run.store.size !== undefined && verdict.version.size !== run.store.size)
  ) {
    res.body.destroy();
    throw new RestartNeeded(verdict.kind === 'changed' ? verdict.reason : 'the file size changed');
  }
  if (!verdict.sameVersion && claim.cursor > 0) {
    // No validator proves that this stream is the same version: take every byte from it again.
    claim.rewind();
    try {
      await run.store.forget(0);
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
  const options = { signal: run.signal, retry: false };
  const target = run.target;
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
    if (run.target === target) {
      run.retarget(checked.res.url);
      t.notice(
        `The redirect target answered ${error.status}: resolved "${t.url}" again, now "${run.target}"`,
      );
    }
    return checked;
  }
}

/**
 * Streams a body into the part store at its offsets, up to the claim's (moving) end. The body is
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
  const { signal, store } = run;
  const { throttle } = t;
  const maxSize = t.settings.maxSize;
  const write = async (data: Buffer, at: number): Promise<boolean> => {
    if (throttle !== undefined) await throttle.take(data.length, signal);
    if (signal.aborted) return false;
    await store.write(data, at);
    t.countFetched(data.length);
    claim.advance(at + data.length);
    claim.overtake();
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
          t.countFetched(skip);
        }
        if (data.length === 0) return true;
        if (at >= claim.end) return false;
        if (at + data.length > claim.end) data = data.subarray(0, claim.end - at);
        // A declared length was checked against maxSize on the head; a body without one (a plain
        // stream) stops before a byte past the limit is written (`settleRun()` deletes the rest).
        if (at + data.length > maxSize) throw tooLong(t);
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
