/**
 * The request-release lock of an upload: one request at a time works on an upload, and a newer
 * request for it cuts off the one holding it (which keeps what it stored) instead of waiting for it
 * or being refused with 423 (issue 12: "A newer HEAD or PATCH of the same upload cuts off a stale
 * PATCH"). In one process the table lives here; with `--workers N` the primary keeps it and the
 * workers ask it over the cluster channel (clusterLocks() / serveClusterLocks()), so the rule holds
 * across processes, and a worker that dies (kill -9) releases what it held.
 */
import type { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';

/** Gives a held lock back. Calling it twice is harmless. */
export type Release = () => void;

export interface UploadLocks {
  /**
   * Takes the lock of upload `id`, first cutting off its holder: `onCancel` is called when a newer
   * request wants it. Undefined when a newer request came while this one waited (it lost).
   */
  acquire(id: string, onCancel: () => void): Promise<Release | undefined>;
  /** Takes the lock only if nobody holds or waits for it (the sweeper); never cuts anyone off. */
  tryAcquire(id: string): Promise<Release | undefined>;
}

interface Entry {
  cancel(): void;
  done: Promise<void>;
}

/** The lock table of one process. */
export class LocalLocks implements UploadLocks {
  #latest = new Map<string, Entry>();

  async acquire(id: string, onCancel: () => void): Promise<Release | undefined> {
    const previous = this.#latest.get(id);
    let cancelled = false;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const entry: Entry = {
      cancel: () => {
        cancelled = true;
        onCancel();
      },
      done,
    };
    this.#latest.set(id, entry);
    let released = false;
    const release: Release = () => {
      if (released) return;
      released = true;
      if (this.#latest.get(id) === entry) this.#latest.delete(id);
      finish();
    };
    if (previous !== undefined) {
      previous.cancel();
      await previous.done;
    }
    if (cancelled) {
      release();
      return undefined;
    }
    return release;
  }

  async tryAcquire(id: string): Promise<Release | undefined> {
    if (this.#latest.has(id)) return undefined;
    return this.acquire(id, () => {});
  }
}

/** Messages of the lock protocol between a worker and the primary. */
type ToPrimary =
  | { ranged: 'lock'; op: 'acquire' | 'try'; id: string; key: string }
  | { ranged: 'lock'; op: 'release'; key: string };
type ToWorker =
  | { ranged: 'lock'; op: 'granted' | 'lost'; key: string }
  | { ranged: 'lock'; op: 'cancel'; key: string };

function isLockMessage(message: unknown): message is { ranged: 'lock' } {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { ranged?: unknown }).ranged === 'lock'
  );
}

/**
 * The primary's side: keeps one LocalLocks for every worker's requests. Call once per forked
 * worker; the worker's locks are released when it exits.
 */
export function serveClusterLocks(table: LocalLocks, worker: Worker): void {
  const held = new Map<string, Release>();
  const waiting = new Set<string>();
  let gone = false;
  const send = (message: ToWorker) => {
    if (!gone && worker.isConnected()) worker.send(message, () => {});
  };
  worker.on('message', (message: unknown) => {
    if (!isLockMessage(message)) return;
    const m = message as ToPrimary;
    if (m.op === 'release') {
      held.get(m.key)?.();
      held.delete(m.key);
      return;
    }
    const { key } = m;
    waiting.add(key);
    const taking =
      m.op === 'try'
        ? table.tryAcquire(m.id)
        : table.acquire(m.id, () => send({ ranged: 'lock', op: 'cancel', key }));
    void taking.then((release) => {
      waiting.delete(key);
      if (release === undefined) return send({ ranged: 'lock', op: 'lost', key });
      if (gone) return release();
      held.set(key, release);
      send({ ranged: 'lock', op: 'granted', key });
    });
  });
  worker.once('exit', () => {
    gone = true;
    for (const release of held.values()) release();
    held.clear();
  });
}

/** A worker's side: asks the primary (serveClusterLocks()) for every lock. */
export function clusterLocks(): UploadLocks {
  const pending = new Map<
    string,
    { resolve(release: Release | undefined): void; onCancel: () => void }
  >();
  const holding = new Map<string, () => void>();
  process.on('message', (message: unknown) => {
    if (!isLockMessage(message)) return;
    const m = message as ToWorker;
    if (m.op === 'cancel') {
      (pending.get(m.key)?.onCancel ?? holding.get(m.key))?.();
      return;
    }
    const waiter = pending.get(m.key);
    if (waiter === undefined) return;
    pending.delete(m.key);
    if (m.op === 'lost') return waiter.resolve(undefined);
    holding.set(m.key, waiter.onCancel);
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      holding.delete(m.key);
      process.send?.({ ranged: 'lock', op: 'release', key: m.key } satisfies ToPrimary);
    });
  });
  const ask = (op: 'acquire' | 'try', id: string, onCancel: () => void) =>
    new Promise<Release | undefined>((resolve) => {
      const key = randomUUID();
      pending.set(key, { resolve, onCancel });
      if (process.send === undefined) {
        pending.delete(key);
        resolve(undefined);
        return;
      }
      process.send({ ranged: 'lock', op, id, key } satisfies ToPrimary);
    });
  return {
    acquire: (id, onCancel) => ask('acquire', id, onCancel),
    tryAcquire: (id) => ask('try', id, () => {}),
  };
}
