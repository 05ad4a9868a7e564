/**
 * Retries, one helper for both paths that retry (the probe in `requestChecked()` and every
 * connection in `fetchClaim()`). `retryDecision()` decides (pure: the jitter source is in the
 * policy); `Retries` counts the attempts of one request or connection, reports and waits.
 */
import { isRetryableStatus, nextDelay, type RetryPolicy } from '../../core/backoff.js';
import { HttpStatusError, NetworkError, RangedError } from '../../errors.js';
import { StatusFailure } from './stops.js';

/** Network failures, stalls, 408, 429 and passing 5xx are worth another attempt. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof HttpStatusError) return isRetryableStatus(error.status);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

export type RetryDecision =
  | { kind: 'retry'; delay: number }
  | { kind: 'give-up'; reason: 'not-retryable' | 'exhausted' };

/**
 * Whether failure number `attempt` (1 for the first) is retried, and after how long: never for an
 * error that is not retryable, never after `limit` retries, else after the backoff delay (or the
 * server's Retry-After, within `maxDelay`).
 */
export function retryDecision(
  error: unknown,
  attempt: number,
  options: { limit: number; policy: RetryPolicy },
): RetryDecision {
  if (!isRetryable(error)) return { kind: 'give-up', reason: 'not-retryable' };
  if (attempt > options.limit) return { kind: 'give-up', reason: 'exhausted' };
  const retryAfter = error instanceof StatusFailure ? error.retryAfterMs : undefined;
  return { kind: 'retry', delay: nextDelay(attempt, options.policy, retryAfter) };
}

export interface RetriesOptions {
  /** Retries after the first failure (reset by `progressed()`). */
  limit: number;
  policy: RetryPolicy;
  notice(message: string): void;
  /** Waits `ms`; rejects or resolves early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The attempts of one request or one connection. */
export class Retries {
  readonly #o: RetriesOptions;
  #attempt = 0;

  constructor(options: RetriesOptions) {
    this.#o = options;
  }

  /** Failures since the last progress. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The connection made progress: the count starts again. */
  progressed(): void {
    this.#attempt = 0;
  }

  /**
   * After `error`: resolves after the backoff when another attempt should be made; otherwise
   * throws `error` (with "(after N retries)" added when the retries ran out), or the signal's
   * reason when it aborts meanwhile.
   */
  async after(error: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason;
    this.#attempt++;
    const { limit } = this.#o;
    const decision = retryDecision(error, this.#attempt, this.#o);
    if (decision.kind === 'give-up') {
      if (decision.reason === 'exhausted' && error instanceof RangedError) {
        error.message = `${error.message} (after ${limit} retries)`;
      }
      throw error;
    }
    this.#o.notice(
      `${(error as Error).message}; retrying in ${formatSeconds(decision.delay)} (${this.#attempt}/${limit})`,
    );
    await this.#o.sleep(decision.delay, signal).catch(() => undefined);
    if (signal.aborted) throw signal.reason;
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
