/**
 * The sweep that runs while the server does (issue 12): an unfinished upload whose last activity
 * is older than the expiry loses its data within seconds (its record stays a while, so it answers
 * 410 rather than 404), finished records are forgotten after a while, and folders a crash left
 * without a record are removed.
 */
import { isExpired } from '../../core/upload/record.js';
import type { UploadContext } from './context.js';

/** How long a finished record is kept (so a lost last response can be learned): at least 10 min. */
export function keepFinishedMs(expires: number): number {
  return Math.max(expires, 600_000);
}

/** One pass over the store. */
export async function sweep(context: UploadContext): Promise<void> {
  const { store } = context;
  const now = context.now();
  for (const id of await store.activeIds()) {
    const loaded = await store.load(id).catch(() => undefined);
    if (loaded === undefined) {
      await store.removeBroken(id, now - 60_000).catch(() => {});
      continue;
    }
    const r = loaded.record;
    const partialDone = r.status === 'complete' && r.concat?.kind === 'partial';
    if (
      !isExpired(r, now, context.expires) &&
      !(partialDone && r.activity + context.expires <= now)
    ) {
      continue;
    }
    // Never under a running request: the sweep only takes a free lock, and looks again.
    const release = await context.locks.tryAcquire(id);
    if (release === undefined) continue;
    try {
      const again = await store.load(id);
      if (again !== undefined && again.record.activity === r.activity)
        await store.end(again.record, 'expired');
    } finally {
      release();
    }
  }
  const keep = keepFinishedMs(context.expires);
  for (const id of await store.finishedIds()) {
    const loaded = await store.load(id).catch(() => undefined);
    if (loaded !== undefined && loaded.record.activity + keep <= now) await store.forget(id);
  }
}

/** Sweeps every `interval` ms (a quarter of the expiry, from 0.25 s to 5 s) until stopped. */
export function startSweeper(context: UploadContext): () => void {
  const interval = Math.min(5_000, Math.max(250, context.expires / 4));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep(context)
      .catch(() => {})
      .finally(() => {
        running = false;
      });
  }, interval);
  timer.unref();
  return () => clearInterval(timer);
}
