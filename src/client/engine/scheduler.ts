/**
 * `Scheduler`: the one owner of a pass's work. It alone holds the pool of segments not yet
 * claimed, the claims being fetched (one per connection) and the connection limit. Its decisions
 * are core's: `planSegments()` splits the file, `idleAction()` tells an idle connection to steal
 * half of the largest remainder or race the slowest tail, `slowSegments()` picks the connections
 * to reconnect. It touches no socket and no clock of its own: time comes in as arguments, so it is
 * unit-tested without either (test/unit/scheduler.test.ts).
 */
import { addSample, rate, type Sample } from '../../core/progress.js';
import { idleAction, planSegments, type Span, slowSegments } from '../../core/segments.js';
import { Claim } from './claim.js';
import { MAX_SLOW_RESTARTS, SPEED_WINDOW } from './defaults.js';

export interface SchedulerOptions {
  /** Connections allowed at first (lowered when a server refuses extra ones). */
  limit: number;
  /** Segments are never split below this size. */
  minBytes: number;
  /** A connection far slower than the others for this long (ms) is reconnected. */
  graceMs: number;
}

/** What the scheduler knows of one claim's speed. */
interface SpeedRecord {
  samples: Sample[];
  /** Since when it has been slow compared with the others (core slowSegments()). */
  slowSince: number | undefined;
  /** Times it was reconnected for being slow. */
  restarts: number;
}

export class Scheduler {
  readonly #minBytes: number;
  readonly #graceMs: number;
  #limit: number;
  #pool: Span[] = [];
  readonly #active = new Set<Claim>();
  /** Idle connections waiting for a claim to end (`nextChange()`). */
  readonly #idle = new Set<() => void>();
  readonly #speeds = new WeakMap<Claim, SpeedRecord>();
  #races = 0;

  constructor(options: SchedulerOptions) {
    this.#limit = options.limit;
    this.#minBytes = options.minBytes;
    this.#graceMs = options.graceMs;
  }

  /** Connections allowed now. */
  get limit(): number {
    return this.#limit;
  }

  /** Claims being fetched. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Segments not yet claimed. */
  get pooled(): readonly Span[] {
    return this.#pool;
  }

  /** Remainders raced so far. */
  get races(): number {
    return this.#races;
  }

  /** Plans the bytes missing from `size` (`done` held) into the pool, replacing it. */
  plan(size: number, done: readonly Span[]): void {
    this.#pool = planSegments(size, {
      connections: this.#limit,
      minBytes: this.#minBytes,
      done: [...done],
    });
  }

  /**
   * Claims the pooled segment that starts at `start` (the one a response already open serves),
   * or the first one when none does; undefined when the pool is empty.
   */
  claimAt(start: number): Claim | undefined {
    const index = this.#pool.findIndex((s) => s.start === start);
    const span = this.#pool.splice(Math.max(index, 0), 1)[0];
    return span === undefined ? undefined : this.#activate(new Claim(span.start, span.end));
  }

  /** Claims `[start, end)` outside the pool (plain mode: the one stream). */
  claim(start: number, end: number): Claim {
    return this.#activate(new Claim(start, end));
  }

  #activate(claim: Claim): Claim {
    this.#active.add(claim);
    return claim;
  }

  /**
   * Work for an idle connection: the next pooled segment; else half of the largest remainder,
   * stolen; else a race for the remainder expected to finish last (core idleAction()); else
   * undefined.
   */
  take(): Claim | undefined {
    const span = this.#pool.shift();
    if (span !== undefined) return this.#activate(new Claim(span.start, span.end));
    const active = [...this.#active];
    const action = idleAction(
      active.map((c) => ({
        cursor: Math.max(c.cursor, c.reserved),
        end: c.end,
        bytesPerSecond: this.#speedOf(c),
        raced: c.raced,
      })),
      { minBytes: this.#minBytes },
    );
    if (action.kind === 'none') return undefined;
    const victim = active[action.index] as Claim;
    if (action.kind === 'steal') {
      const claim = new Claim(action.at, victim.end);
      victim.cutAt(action.at); // the victim's connection re-reads `end` per chunk
      return this.#activate(claim);
    }
    // A race: both fetch the same bytes from the same version (every 206 is checked against the
    // journal's validators), so writing them twice at the same offsets is harmless. The racer
    // stops the victim once it catches up; the victim stops the racer only by finishing first
    // (`Claim.overtake()`, core endsRace()).
    const claim = new Claim(victim.cursor, victim.end);
    Claim.race(claim, victim);
    this.#races++;
    return this.#activate(claim);
  }

  /**
   * Whether an idle connection should stay: a claim that might still turn out slow (its speed is
   * measured after a second) is running, and could be raced.
   */
  get raceable(): boolean {
    for (const c of this.#active) if (!c.raced && c.cursor < c.end) return true;
    return false;
  }

  /** The connection holding `claim` is done with it; idle connections are woken. */
  release(claim: Claim): void {
    this.#active.delete(claim);
    claim.leaveRace();
    this.wakeIdle();
  }

  /**
   * The server refused the connection holding `claim` (one of several): the rest of the claim
   * goes back to the pool and one connection fewer is used from now on.
   */
  refuse(claim: Claim): void {
    this.#active.delete(claim);
    if (claim.cursor < claim.end) {
      this.#pool.push({ start: claim.cursor, end: claim.end });
      this.#pool.sort((a, b) => a.start - b.start);
    }
    claim.cutAt(claim.cursor);
    this.#limit = Math.max(1, this.#limit - 1);
  }

  /**
   * Resolves after `ms`, when a claim is released, or on `wakeIdle()`. The timer comes in as
   * `setTimer` so that tests can drive it.
   */
  nextChange(
    ms: number,
    setTimer: (fn: () => void, ms: number) => () => void = defaultTimer,
  ): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        cancel();
        this.#idle.delete(done);
        resolve();
      };
      const cancel = setTimer(done, ms);
      this.#idle.add(done);
    });
  }

  /** Wakes every idle connection (a claim ended, or the pass stops). */
  wakeIdle(): void {
    for (const wake of [...this.#idle]) wake();
  }

  /**
   * Samples every claim's speed at `now` and returns the claims to reconnect, with how many
   * times each has been: those that stayed far slower than the others for `graceMs` (core
   * slowSegments()), at most `MAX_SLOW_RESTARTS` times each, and only while a connection is
   * reading them. The caller stops them.
   */
  sampleSpeeds(now: number): { claim: Claim; restarts: number }[] {
    const claims = [...this.#active];
    const records = claims.map((c) => this.#record(c));
    claims.forEach((c, i) => {
      const r = records[i] as SpeedRecord;
      r.samples = addSample(r.samples, { time: now, bytes: c.received }, { window: SPEED_WINDOW });
    });
    const { slowSince, restart } = slowSegments(
      claims.map((c, i) => ({
        bytesPerSecond: speedOf(records[i] as SpeedRecord),
        left: c.rival === undefined ? c.end - c.cursor : 0,
        slowSince: (records[i] as SpeedRecord).slowSince,
      })),
      { now, graceMs: this.#graceMs, minBytes: this.#minBytes },
    );
    records.forEach((r, i) => {
      r.slowSince = slowSince[i];
    });
    const chosen: { claim: Claim; restarts: number }[] = [];
    for (const i of restart) {
      const claim = claims[i] as Claim;
      const r = records[i] as SpeedRecord;
      if (r.restarts >= MAX_SLOW_RESTARTS || claim.stop === undefined) continue;
      r.restarts++;
      r.slowSince = undefined;
      r.samples = []; // measured afresh after the reconnect
      claim.requestRestart();
      chosen.push({ claim, restarts: r.restarts });
    }
    return chosen;
  }

  #record(claim: Claim): SpeedRecord {
    let record = this.#speeds.get(claim);
    if (record === undefined) {
      record = { samples: [], slowSince: undefined, restarts: 0 };
      this.#speeds.set(claim, record);
    }
    return record;
  }

  /** A claim's speed once it has been sampled for a second or more; undefined before. */
  #speedOf(claim: Claim): number | undefined {
    const record = this.#speeds.get(claim);
    return record === undefined ? undefined : speedOf(record);
  }
}

function defaultTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

function speedOf(record: SpeedRecord): number | undefined {
  const first = record.samples[0];
  const last = record.samples.at(-1);
  if (first === undefined || last === undefined || last.time - first.time < 1_000) return undefined;
  return rate(record.samples);
}
