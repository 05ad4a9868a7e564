/**
 * Retry policy for the download client: which failures are worth another attempt and how long to
 * wait first. Pure: the jitter source and the clock reading come in as parameters (house rule 10).
 */
import { parseHttpDate } from './validators.js';

export interface RetryPolicy {
  /** Wait before the first retry, in ms; doubles with each attempt. @default 500 */
  baseDelay: number;
  /** Upper bound for one wait, in ms (Retry-After included). @default 30_000 */
  maxDelay: number;
  /** Returns a number in [0, 1): the jitter source (Math.random in production). */
  random(): number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): exponential backoff with "equal
 * jitter", a uniformly random value in [d/2, d) where d = min(maxDelay, baseDelay * 2^(attempt-1)).
 * The jitter keeps connections that failed together from retrying together.
 */
export function retryDelay(attempt: number, policy: RetryPolicy): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`Cannot compute retry ${attempt}: attempt must be a positive integer`);
  }
  const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** Math.min(attempt - 1, 52));
  const r = Math.min(Math.max(policy.random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) into a wait in ms from
 * `nowMs`; undefined when absent or malformed. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  const date = parseHttpDate(text);
  return date === undefined ? undefined : Math.max(0, date - nowMs);
}

/**
 * The wait before retry number `attempt`: the server's Retry-After when it gave one (capped at
 * `maxDelay`), else the backoff.
 */
export function nextDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelay);
  return retryDelay(attempt, policy);
}

/**
 * Whether a response status is worth retrying: 408 Request Timeout, 429 Too Many Requests and the
 * 5xx codes that describe a passing state. 501 Not Implemented and 505 HTTP Version Not Supported
 * will not change on a retry.
 */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/**
 * Whether a failed status means "no more connections, please" rather than a failure: a 403, 429
 * or 503 on a range request while another connection of the same download works (some hosts
 * refuse every connection past the first few). The caller then continues with fewer.
 */
export function isRefusal(status: number, facts: { ranged: boolean; active: number }): boolean {
  return [403, 429, 503].includes(status) && facts.ranged && facts.active > 1;
}

/**
 * Whether a failed status on a range request means that the URL a redirect led to has expired: a
 * 403 or 410 from a redirect target (signed CDN URLs expire, ARCHITECTURE.md field gap 10). The caller then
 * resolves the original URL again, once, and checks the validators of what it finds.
 */
export function isExpiredTarget(status: number, facts: { redirected: boolean }): boolean {
  return (status === 403 || status === 410) && facts.redirected;
}
