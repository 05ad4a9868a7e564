/**
 * An overall rate cap shared by every connection of a download: a token bucket holding at most
 * one second of bytes. `take(n)` resolves when `n` bytes may pass.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Throttle {
  take(bytes: number, signal: AbortSignal): Promise<void>;
}

export function createThrottle(bytesPerSecond: number, now: () => number): Throttle {
  if (!(bytesPerSecond > 0))
    throw new RangeError(`Cannot limit the rate to ${bytesPerSecond} bytes/s`);
  let tokens = 0;
  let last = now();
  let queue: Promise<void> = Promise.resolve();
  const refill = (): void => {
    const t = now();
    tokens = Math.min(bytesPerSecond, tokens + ((t - last) * bytesPerSecond) / 1000);
    last = t;
  };
  return {
    take(bytes, signal) {
      // Callers queue in order, so one large chunk cannot starve the others.
      const turn = queue.then(async () => {
        refill();
        tokens -= bytes;
        if (tokens < 0) {
          await sleep(Math.ceil((-tokens * 1000) / bytesPerSecond), undefined, { signal });
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
