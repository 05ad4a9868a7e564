/**
 * `Run`: one pass over an open part file. It holds the owners of the pass's state (the
 * `PartStore` for the bytes, the `Scheduler` for the work) and what the pass itself decides: the
 * version every response must match, whether the server honours Range, the URL redirects led to,
 * and why the pass stopped.
 */
import type { RemoteVersion } from '../../core/resume.js';
import type { PartStore } from '../store/part-store.js';
import type { Scheduler } from './scheduler.js';

export class Run {
  readonly #controller: AbortController;
  readonly store: PartStore;
  readonly scheduler: Scheduler;
  /** Version every response must match. */
  readonly version: RemoteVersion;
  /** Whether the server honours Range. */
  readonly ranged: boolean;
  #target: string;
  #failure: unknown;

  constructor(options: {
    controller: AbortController;
    store: PartStore;
    scheduler: Scheduler;
    version: RemoteVersion;
    ranged: boolean;
    target: string;
  }) {
    this.#controller = options.controller;
    this.store = options.store;
    this.scheduler = options.scheduler;
    this.ranged = options.ranged;
    this.#target = options.target;
    this.version = options.version;
  }

  /** Aborts on pause, abort and a fatal error. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The URL after redirects. */
  get target(): string {
    return this.#target;
  }

  /** The redirect target expired and the URL the user gave led to `url` this time. */
  retarget(url: string): void {
    this.#target = url;
  }

  /** Why the pass stopped, when it failed (an abort is not a failure). */
  get failure(): unknown {
    return this.#failure;
  }

  /** Stops the pass with `error`: the first failure wins; after an abort, nothing is recorded. */
  fail(error: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#failure = error;
    this.#controller.abort(error);
  }
}
