/**
 * The part buffers of the S3 appends running in this process (s3-append.ts): an append holds one
 * part buffer (8 MiB; more when the declared length needs more than 9,000 parts, or past 16 GiB of
 * an unknown length: core partSizeFor()) and one piece of the body. The part buffers of one
 * process stay within MAX_APPEND_BYTES (128 MiB: 16 appends of 8 MiB parts; one append with a
 * larger part runs alone): the others wait in order with their body unread (the minimum-speed
 * watch may cut them off: 408, nothing lost).
 */
import { PART_SIZE } from '../../core/upload/s3-state.js';

/** The part buffers of the appends running at once in this process: 16 of the usual size. */
export const MAX_APPEND_BYTES = 16 * PART_SIZE;

/**
 * The part buffers of the appends running in this process: at most `limit` bytes together (one
 * append alone may go past it); the others wait in order.
 */
export class BufferBudget {
  readonly limit: number;
  #used = 0;
  readonly #waiting: { bytes: number; grant(): void }[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes `bytes`; their release, or undefined when `signal` aborted first. */
  async take(bytes: number, signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return undefined;
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#used += bytes;
    } else {
      const granted = await new Promise<boolean>((resolve) => {
        const waiter = {
          bytes,
          grant: () => {
            signal.removeEventListener('abort', abort);
            resolve(true);
          },
        };
        const abort = () => {
          const at = this.#waiting.indexOf(waiter);
          if (at !== -1) this.#waiting.splice(at, 1);
          resolve(false);
          this.#pump();
        };
        signal.addEventListener('abort', abort, { once: true });
        this.#waiting.push(waiter);
      });
      if (!granted) return undefined;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
      this.#pump();
    };
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.limit;
  }

  /** Grants the waiters in order while they fit. */
  #pump(): void {
    for (;;) {
      const next = this.#waiting[0];
      if (next === undefined || !this.#fits(next.bytes)) return;
      this.#waiting.shift();
      this.#used += next.bytes;
      next.grant();
    }
  }
}

/** One budget per process: every S3 upload store of it shares the bound. */
export const appendBudget = new BufferBudget(MAX_APPEND_BYTES);

/**
 * Part buffers of the usual size kept for the next append: a new 8 MiB buffer per PATCH is
 * garbage the collector frees late, and it raised the server's RSS past 128 MiB in the s3 bench.
 */
const idleParts: Buffer[] = [];
const IDLE_PARTS = 2;

/** A part buffer of `size` bytes: a kept one when it has the usual size. */
export function takePartBuffer(size: number): Buffer {
  return (size === PART_SIZE ? idleParts.pop() : undefined) ?? Buffer.allocUnsafe(size);
}

/** Gives back a part buffer no request reads any more. */
export function givePartBuffer(buffer: Buffer): void {
  if (buffer.length === PART_SIZE && idleParts.length < IDLE_PARTS) idleParts.push(buffer);
}
