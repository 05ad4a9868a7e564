/**
 * `Claim`: the bytes `[cursor, end)` one connection fetches. The connection that holds it moves
 * the cursor (`advance()`); the scheduler lowers the end when another connection steals the upper
 * part (`cutAt()`), and in a race the rival that gets ahead stops it (`overtake()`). Those are the
 * only ways the range changes.
 */
import type { Sample } from '../../core/progress.js';

export class Claim {
  #cursor: number;
  #end: number;
  /** End of the bytes received and being written: a steal splits above this, not `cursor`. */
  reserved: number;
  /** Bytes received for this claim (its speed samples count these). */
  received = 0;
  /** Speed samples, kept by the scheduler. */
  samples: Sample[] = [];
  /** Since when it has been slow compared with the others (core slowSegments()). */
  slowSince: number | undefined;
  /** Times it was restarted for being slow. */
  restarts = 0;
  /** Set while a restart is requested: the next failure reopens at once, without a retry. */
  restarting = false;
  /** The other claim racing for the same remainder (both end at the same byte). */
  rival: Claim | undefined;
  /** It raced or was raced once: never again (a loser's connection would race the winner). */
  raced = false;
  /** Closes the response being read, if any (set by the connection while it reads). */
  stop: (() => void) | undefined;

  constructor(cursor: number, end: number) {
    this.#cursor = cursor;
    this.#end = end;
    this.reserved = cursor;
  }

  /** Next byte this connection writes. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Exclusive end; Infinity for a stream of unknown length. */
  get end(): number {
    return this.#end;
  }

  /** Bytes still wanted. */
  get left(): number {
    return this.#end - this.#cursor;
  }

  /** Bytes up to `to` are written (the cursor never moves back, except by `rewind()`). */
  advance(to: number): void {
    if (to > this.#cursor) this.#cursor = to;
  }

  /** The stream starts over from byte 0 (plain mode, when no validator proves the version). */
  rewind(): void {
    this.#cursor = 0;
  }

  /** Stops this claim at `at` (a steal takes the rest; a refusal gives it back; a stream ended). */
  cutAt(at: number): void {
    this.#end = Math.min(this.#end, Math.max(at, this.#cursor));
  }

  /**
   * After a write in a race: once this claim's cursor reaches its rival's, every byte the rival
   * still wants is written or will be written here, so the rival stops.
   */
  overtake(): void {
    const rival = this.rival;
    if (rival === undefined || this.#cursor < rival.#cursor) return;
    this.rival = undefined;
    rival.rival = undefined;
    rival.#end = Math.min(rival.#end, rival.#cursor);
    rival.stop?.();
  }
}
