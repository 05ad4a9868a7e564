/**
 * Checkpoints in the background (core/upload/record.ts): while PATCHes stream in, an upload's data
 * is synced and its `durable` offset recorded at most once per sync interval, without a PATCH
 * waiting for the disk. A checkpoint syncs the data on a descriptor of its own, then changes only
 * `durable`, `boot`, `synced` (and activity) on the record as it is on disk then. The store's own
 * record writes for the upload wait for it first (settled()), so none of them is lost in this
 * process.
 */
import { open } from 'node:fs/promises';
import { readRecord, writeRecord } from './record-files.js';

export class Checkpoints {
  readonly #boot: string;
  readonly #now: () => number;
  /** The checkpoint running per upload, and when the last one started (ms). */
  readonly #running = new Map<string, Promise<void>>();
  readonly #started = new Map<string, number>();

  constructor(boot: string, now: () => number) {
    this.#boot = boot;
    this.#now = now;
  }

  /** When the running checkpoint of `id` started, 0 when none runs. */
  startedAt(id: string): number {
    return this.#started.get(id) ?? 0;
  }

  /** Starts a checkpoint of upload `id` (its folder `dir`) declaring `size` bytes durable. */
  soon(id: string, dir: string, size: number): void {
    this.#started.set(id, this.#now());
    const run = (this.#running.get(id) ?? Promise.resolve())
      .then(async () => {
        const data = await open(`${dir}/data`, 'r');
        try {
          await data.datasync();
        } finally {
          await data.close();
        }
        const current = await readRecord(`${dir}/info.json`);
        if (current === undefined || (current.durable >= size && current.boot === this.#boot)) {
          return;
        }
        const at = this.#now();
        await writeRecord(dir, {
          ...current,
          durable: size,
          boot: this.#boot,
          synced: at,
          activity: Math.max(current.activity, at),
        });
      })
      // A failed checkpoint claims nothing: the record keeps its older, true, durable offset.
      .catch(() => {});
    this.#running.set(id, run);
    void run.then(() => {
      if (this.#running.get(id) === run) {
        this.#running.delete(id);
        this.#started.delete(id);
      }
    });
  }

  /** Waits for upload `id`'s checkpoint, if one runs. */
  async settled(id: string): Promise<void> {
    await this.#running.get(id);
  }
}
