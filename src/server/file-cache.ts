/**
 * OpenFileCache: descriptors of recently served files, reused while their path still names the
 * same file. Every request still stats the path, so a file edited in place is served with its new
 * length and ETag, and a file replaced by rename (a new inode) gets a new descriptor.
 */
import { closeSync, type Stats } from 'node:fs';
import { fileETag } from '../core/validators.js';

interface Entry {
  fd: number;
  dev: number;
  ino: number;
  /** Responses using the descriptor now. */
  refs: number;
  /** Left the cache; close when the last response is done with it. */
  evicted: boolean;
  /** Used since the last idle sweep. */
  used: boolean;
  /** The ETag last computed for this file, and the size and time it was computed for. */
  etag?: { size: number; mtimeMs: number; value: string };
}

export interface Lease {
  fd: number;
  /** Stats of the descriptor's file, fresh for this request. */
  stats: Stats;
  /** The file's strong ETag for these stats. */
  etag: string;
  /** Returns the descriptor to the cache (or closes it if it was evicted meanwhile). */
  release(): void;
}

export interface OpenFileCacheOptions {
  /** Most descriptors kept open. @default 64 */
  max?: number;
  /** An unused descriptor is closed after this long, in ms. @default 5_000 */
  idleMs?: number;
}

export class OpenFileCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #idleMs: number;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: OpenFileCacheOptions = {}) {
    this.#max = options.max ?? 64;
    this.#idleMs = options.idleMs ?? 5_000;
  }

  /**
   * Returns a descriptor for the regular file at `path`, whose fresh `stats` the caller just took.
   * A cached descriptor is reused only if it is the same file (device and inode): it was checked
   * when `open` made it, and an inode is the file, whatever path leads to it now. Otherwise
   * `open()` opens (and checks) the file anew; undefined from it (a refusal) is passed on.
   */
  acquire(
    path: string,
    stats: Stats,
    open: () => { fd: number; stats: Stats } | undefined,
  ): Lease | undefined {
    let entry = this.#entries.get(path);
    let current = stats;
    if (entry === undefined || entry.dev !== stats.dev || entry.ino !== stats.ino) {
      if (entry !== undefined) this.#evict(path, entry);
      const file = open();
      if (file === undefined) return undefined;
      // The path may have been replaced between the caller's stat and the open: the opened
      // descriptor's stats are the truth.
      current = file.stats.ino === stats.ino && file.stats.dev === stats.dev ? stats : file.stats;
      entry = {
        fd: file.fd,
        dev: current.dev,
        ino: current.ino,
        refs: 0,
        evicted: false,
        used: true,
      };
      if (this.#max > 0) {
        this.#entries.set(path, entry);
        this.#trim();
        this.#startSweeper();
      } else {
        entry.evicted = true;
      }
    }
    entry.refs++;
    entry.used = true;
    let etag = entry.etag;
    if (etag?.size !== current.size || etag.mtimeMs !== current.mtimeMs) {
      etag = { size: current.size, mtimeMs: current.mtimeMs, value: fileETag(current) };
      entry.etag = etag;
    }
    const leased = entry;
    let released = false;
    return {
      fd: leased.fd,
      stats: current,
      etag: etag.value,
      release: () => {
        if (released) return;
        released = true;
        leased.refs--;
        if (leased.evicted && leased.refs === 0) closeSync(leased.fd);
      },
    };
  }

  /** Forgets a path that no longer names a file (its descriptor closes when unused). */
  forget(realPath: string): void {
    const entry = this.#entries.get(realPath);
    if (entry !== undefined) this.#evict(realPath, entry);
  }

  /** Closes every descriptor not in use now, and the rest as their responses finish. */
  close(): void {
    for (const [path, entry] of this.#entries) this.#evict(path, entry);
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Number of cached descriptors (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  #evict(path: string, entry: Entry) {
    this.#entries.delete(path);
    entry.evicted = true;
    if (entry.refs === 0) closeSync(entry.fd);
  }

  /** Drops the oldest entries beyond the bound (a Map iterates in insertion order). */
  #trim() {
    for (const [path, entry] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      this.#evict(path, entry);
    }
  }

  /** Every idleMs, closes the descriptors no request used since the previous sweep. */
  #startSweeper() {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      for (const [path, entry] of this.#entries) {
        if (entry.refs === 0 && !entry.used) this.#evict(path, entry);
        entry.used = false;
      }
      if (this.#entries.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, this.#idleMs);
    this.#sweeper.unref();
  }
}
