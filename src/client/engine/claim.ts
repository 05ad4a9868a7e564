/**
 * `Claim`: the bytes `[cursor, end)` one connection fetches. The connection that holds it moves
 * the cursor (`advance()`) and counts what it receives; the scheduler lowers the end when another
 * connection steals the upper part (`cutAt()`), pairs it in a race (`Claim.race()`) and asks for a
 * reconnect (`requestRestart()`); in a race the racer that catches up stops the slow claim, and
 * the slow claim stops the racer only by finishing first (`overtake()`, core endsRace()).
 * Those are the only ways its state changes. Its speed record is the scheduler's own.
 */
import { endsRace, type RaceSide } from '../../core/segments.js';

export class Claim {
  #cursor: number;
  #end: number;
  #rival: Claim | undefined;
  #raced = false;
  /** It joined a race for another claim's remainder (`Claim.race()`'s `racer`). */
  #racer = false;
  #restarting = false;
  /** End of the bytes received and being written: a steal splits above this, not `cursor`.
   * Written by the connection. */
  reserved: number;
  /** Bytes received for this claim (its speed samples count these). Written by the connection. */
  received = 0;
  /** Closes the response being read, if any. Set by the connection while it reads. */
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

  /** The other claim racing for the same remainder (both end at the same byte). */
  get rival(): Claim | undefined {
    return this.#rival;
  }

  /** It raced or was raced once: never again (a loser's connection would race the winner). */
  get raced(): boolean {
    return this.#raced;
  }

  /** `racer` fetches the same remainder as `victim`, from the same cursor. */
  static race(racer: Claim, victim: Claim): void {
    racer.#rival = victim;
    victim.#rival = racer;
    racer.#raced = true;
    victim.#raced = true;
    racer.#racer = true;
  }

  /** The connection is done with this claim: its rival, if any, races no one now. */
  leaveRace(): void {
    if (this.#rival !== undefined) this.#rival.#rival = undefined;
    this.#rival = undefined;
  }

  /** The scheduler asks for a reconnect (a slow connection): the next failure is not a retry. */
  requestRestart(): void {
    this.#restarting = true;
  }

  /** Whether a reconnect was asked for; clears the request. */
  takeRestart(): boolean {
    const asked = this.#restarting;
    this.#restarting = false;
    return asked;
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
   * After a write in a race: stops the rival when this write decides the race (core
   * endsRace()): the racer has caught up with the slow claim, or the slow claim has finished.
   * Either way every byte the rival still wants is written or will be written here.
   */
  overtake(): void {
    const rival = this.#rival;
    if (rival === undefined || !endsRace(this.#side(), rival.#side())) return;
    this.leaveRace();
    rival.#end = Math.min(rival.#end, rival.#cursor);
    rival.stop?.();
  }

  #side(): RaceSide {
    return { cursor: this.#cursor, end: this.#end, racer: this.#racer };
  }
}
