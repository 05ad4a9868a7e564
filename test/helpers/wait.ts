/**
 * Waiting in tests: for a condition, never for a fixed time. Every wait is bounded and says what
 * it waited for when it gives up.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Gives up after this many ms. @default 20_000 */
  timeoutMs?: number;
  /** Looks again after this many ms. @default 10 */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. Throws `Cannot continue: <what> did not happen within N ms` when time runs out.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (performance.now() > deadline)
      throw new Error(`Cannot continue: ${what} did not happen within ${timeoutMs} ms`);
    await sleep(options.intervalMs ?? 10);
  }
}

/**
 * An observation window, not a wait: lets `ms` pass so a test can assert that something did NOT
 * happen meanwhile (no request while paused, no log line with --quiet). The only fixed delay tests
 * may use, and only for that.
 */
export function quietFor(ms: number): Promise<void> {
  return sleep(ms);
}
