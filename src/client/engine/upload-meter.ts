/**
 * The progress of one upload: the parts' meters summed, the rate and ETA from core/progress.ts,
 * reported every 250 ms while uploading and at once when the state changes.
 */
import { addSample, eta, rate, type Sample } from '../../core/progress.js';
import type { UploadProgress, UploadState } from '../types.js';
import { DEFAULTS } from './defaults.js';
import type { PartMeter } from './upload-part.js';

export class UploadMeter {
  readonly #now: () => number;
  readonly #report: ((p: UploadProgress) => void) | undefined;
  #meters: PartMeter[] = [];
  #samples: Sample[] = [];
  #state: UploadState = 'connecting';
  #timer: NodeJS.Timeout | undefined;
  #resumedFresh = false;
  /** Bytes sent by earlier passes (before a pause). */
  #sentBefore = 0;
  total = 0;

  constructor(now: () => number, report: ((p: UploadProgress) => void) | undefined) {
    this.#now = now;
    this.#report = report;
  }

  /** The parts of this pass; `fresh`: just created, so nothing was held before. */
  track(meters: PartMeter[], fresh: boolean): void {
    this.#sentBefore += this.#meters.reduce((n, m) => n + m.sent, 0);
    if (this.#meters.length === 0) this.#resumedFresh = fresh;
    this.#meters = meters;
    this.#samples = [];
  }

  /** Bytes the server held when this call first asked. */
  get resumed(): number {
    if (this.#resumedFresh) return 0;
    return this.#meters.reduce((n, m) => n + (m.resumed ?? 0), 0);
  }

  get sent(): number {
    return this.#sentBefore + this.#meters.reduce((n, m) => n + m.sent, 0);
  }

  state(state: UploadState): void {
    this.#state = state;
    if (state === 'uploading' && this.#timer === undefined && this.#report !== undefined) {
      this.#timer = setInterval(() => this.#emit(), DEFAULTS.progressInterval);
      this.#timer.unref();
    }
    if (state !== 'uploading') this.stop();
    this.#emit();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #emit(): void {
    if (this.#report === undefined) return;
    let bytes = this.#meters.reduce((n, m) => n + m.confirmed + m.inflight, 0);
    if (this.#state === 'done') bytes = this.total;
    bytes = Math.min(bytes, this.total);
    this.#samples = addSample(this.#samples, { time: this.#now(), bytes });
    const bytesPerSecond = this.#state === 'uploading' ? rate(this.#samples) : 0;
    this.#report({
      state: this.#state,
      bytes,
      total: this.total,
      bytesPerSecond,
      etaSeconds: eta(this.total - bytes, bytesPerSecond),
      connections: this.#state === 'uploading' ? this.#meters.length : 0,
    });
  }
}
