/**
 * `requestChecked()`: one download request whose response has been judged by core
 * `checkResponse()`. A broken response becomes a ProtocolError and an error status a
 * StatusFailure, so the caller only ever sees responses it can use. The probe retries here
 * (with `options.retry`); connections retry in `fetchClaim()`, with the same `Retries`.
 */
import { parseRetryAfter } from '../../core/backoff.js';
import {
  type Asked,
  checkResponse,
  declaredSize,
  ifRangeValue,
  type RemoteVersion,
  type Verdict,
} from '../../core/resume.js';
import { ProtocolError, SizeLimitError } from '../../errors.js';
import { isCertificateError, networkCode, type RangeResponse } from '../transport/range-request.js';
import { readBufferSize } from './defaults.js';
import { Retries } from './retry.js';
import { StatusFailure } from './stops.js';
import type { Transfer } from './transfer.js';

export interface CheckedResponse {
  res: RangeResponse;
  verdict: Verdict;
}

/**
 * Sends one request for `asked` to `url` (with If-Range from `expected`) and checks the response.
 * With `retry`, network failures and retryable statuses are retried with backoff. Resolves with a
 * response whose verdict is partial, full, changed or complete.
 */
export async function requestChecked(
  t: Transfer,
  url: string,
  asked: Asked,
  expected: RemoteVersion | undefined,
  options: { signal: AbortSignal; retry: boolean },
): Promise<CheckedResponse> {
  const { signal } = options;
  const ifRange = expected === undefined || !asked.ranged ? undefined : ifRangeValue(expected);
  const retries = new Retries({
    limit: t.settings.retries,
    policy: t.policy,
    notice: (message) => t.notice(message),
    sleep: t.sleep,
  });
  let misplaced = 0;
  for (;;) {
    try {
      return await requestOnce(t, url, asked, ifRange, expected, signal);
    } catch (error) {
      // A 206 that does not cover what was asked may be one bad cache node or proxy: ask once
      // more on a fresh connection, then report it.
      if (error instanceof Misplaced && misplaced++ === 0 && !signal.aborted) {
        t.notice(`${error.message}; asking again`);
        continue;
      }
      if (signal.aborted) throw signal.reason;
      if (!options.retry) throw error;
      const code = networkCode(error);
      // Nothing listens there, or the name does not resolve: no point waiting (curl and wget agree).
      if (t.fetchedBytes === 0 && (code === 'ECONNREFUSED' || code === 'ENOTFOUND')) throw error;
      // A certificate that fails verification fails again.
      if (isCertificateError(code)) throw error;
      await retries.after(error, signal);
    }
  }
}

async function requestOnce(
  t: Transfer,
  url: string,
  asked: Asked,
  ifRange: string | undefined,
  expected: RemoteVersion | undefined,
  signal: AbortSignal,
): Promise<CheckedResponse> {
  const res = await t.transport(url, {
    range: asked.ranged ? { start: asked.start, end: asked.end } : undefined,
    ifRange,
    signal,
    maxRedirects: t.settings.maxRedirects,
    timeout: t.settings.stallTimeout,
    allowInsecureRedirect: t.settings.allowInsecureRedirect,
    agents: t.agents,
    bufferSize: readBufferSize(t.settings.connections),
    headers: t.settings.headers,
    // The user's fields go to the origin of the URL they gave, also when a request goes straight
    // to the URL its redirects led to.
    headersOrigin: new URL(t.url).origin,
    tls: t.settings.tls,
    proxyEnv: t.settings.proxyEnv,
  });
  const h = res.headers;
  const verdict = checkResponse(
    asked,
    {
      status: res.status,
      contentRange: h['content-range'],
      contentLength: h['content-length'],
      contentEncoding: h['content-encoding'],
      etag: h.etag,
      lastModified: h['last-modified'],
    },
    expected,
  );
  if (verdict.kind === 'misplaced') {
    res.body.destroy();
    throw new Misplaced(`Cannot download "${t.url}": ${verdict.reason}`);
  }
  if (verdict.kind === 'invalid') {
    res.body.destroy();
    throw new ProtocolError(`Cannot download "${t.url}": ${verdict.reason}`);
  }
  if (verdict.kind === 'status') {
    res.body.destroy();
    const status = verdict.status;
    const message =
      `Cannot download "${t.url}": the server answered ${status} ${res.statusMessage}`.trimEnd();
    const retryAfter = parseRetryAfter(h['retry-after'], Date.now());
    throw new StatusFailure(message, { status, url: res.url }, retryAfter);
  }
  // Refused on the head, before a byte is written or a part file made; an earlier run's part file
  // and journals are left as they are (even on a 'changed' verdict, which would discard them).
  const size = declaredSize(verdict);
  const limit = t.settings.maxSize;
  if (size !== undefined && size > limit) {
    res.body.destroy();
    throw new SizeLimitError(
      `Cannot download "${t.url}": the server declares ${size} bytes, more than the limit of ${limit} bytes`,
      { limit, size },
    );
  }
  return { res, verdict };
}

/** A 206 whose Content-Range does not cover the bytes asked for. */
class Misplaced extends ProtocolError {}
