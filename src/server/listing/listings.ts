/**
 * Folder listings: an HTML page for people, JSON (`Accept: application/json`) for scripts. This is
 * the I/O shell; the pure modules beside it decide the order (order.ts), the pages (pages.ts), the
 * links (entry.ts) and the documents (html.ts, json.ts).
 *
 * A folder can hold 100,000 names, and many clients can ask for it at once, so a listing's cost is
 * bounded: a folder is read by its source (sources/file.ts, sources/s3.ts) in batches with a yield
 * to other requests between them, at most `concurrent` folders are read at once, requests for a folder
 * already being read share that read, entries are sorted in steps, at most `maxEntries` are read,
 * and a response carries one page (`pageSize` entries, `?page=N`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { sortInSteps } from '../../core/sort-steps.js';
import type { ListedFolder } from '../sources/source.js';
import { listingAssets } from './assets.js';
import type { ListingEntry } from './entry.js';
import { renderListingHtml } from './html.js';
import { renderListingJson } from './json.js';
import { prefersJson } from './negotiate.js';
import { compareEntries, type ListingSort, parseListingSort } from './order.js';
import { countEntries, paginate, parseListingPage } from './pages.js';

export type { ListingEntry } from './entry.js';

export interface ListingLimits {
  /** Entries on one page (`?page=N` for the others). @default 1000 */
  pageSize?: number;
  /** Most entries read from one folder; the page says when there were more. @default 200_000 */
  maxEntries?: number;
  /** Folders read at once; other listings wait for their turn. @default 2 */
  concurrent?: number;
  /** Listings waiting for their turn; past that a listing is answered 503. @default 64 */
  queue?: number;
}

/** Comparisons between two yields while sorting. */
const SORT_BUDGET = 5_000;
/** A folder of at least this many entries may be listed from a read this recent, in ms. */
const REUSE_MS = 2_000;
const REUSE_MIN_ENTRIES = 1_000;

/** One read of a folder, shared by the requests that come while it is fresh. */
interface Snapshot {
  /** The folder's identity when it was read (device, inode and change time for a folder on disk). */
  identity: string;
  readAt: number;
  entries: ListingEntry[];
  truncated: boolean;
  /** Folders, files and bytes, counted once per read. */
  counts: ReturnType<typeof countEntries>;
  /** Sorted orders made so far, by `key:order`. */
  sorted: Map<string, Promise<ListingEntry[]>>;
}

interface Shared {
  reading: Promise<Snapshot>;
  /** Set once the read is done, if it is kept for reuse. */
  snapshot?: Snapshot;
}

/** Listings for one handler: its read slots, its queue and its recent reads. */
export class Listings {
  readonly #pageSize: number;
  readonly #maxEntries: number;
  readonly #concurrent: number;
  readonly #queue: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** Reads in progress, and big ones for a while after (a pager clicked through reuses them). */
  readonly #snapshots = new Map<string, Shared>();
  #renders: Promise<unknown> = Promise.resolve();

  constructor(limits: ListingLimits = {}) {
    this.#pageSize = limits.pageSize ?? 1_000;
    this.#maxEntries = limits.maxEntries ?? 200_000;
    this.#concurrent = limits.concurrent ?? 2;
    this.#queue = limits.queue ?? 64;
  }

  /**
   * Sends one page of the listing of `folder` (opened and checked by the caller, who closes it
   * after this resolves); `segments` are the folder's decoded URL path segments.
   */
  async send(
    req: IncomingMessage,
    res: ServerResponse,
    folder: ListedFolder,
    segments: string[],
    options: { uploads?: boolean },
  ): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const query = q === -1 ? '' : (target.slice(q + 1).split('#')[0] ?? '');
    const sort = parseListingSort(query);
    const snapshot = await this.#snapshot(folder);
    if (snapshot === undefined) {
      if (res.headersSent) return void res.destroy();
      const text = 'Too many folder listings at once: retry in a moment\n';
      res.writeHead(503, {
        'Retry-After': '1',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(text.length),
      });
      return void res.end(req.method === 'HEAD' ? undefined : text);
    }
    const sorted = await this.#sorted(snapshot, sort);
    // Many requests can be waiting on one read, and would all render their pages in one turn of
    // the event loop: they render one a turn instead, so other requests are answered between.
    await this.#renderTurn();
    if (!folder.stillInside()) throw Object.assign(new Error('Folder moved'), { code: 'ENOENT' });
    const { pagination, slice } = paginate(
      sorted,
      parseListingPage(query),
      this.#pageSize,
      snapshot.truncated,
      snapshot.counts,
    );
    const headers: Record<string, string> = {
      // RFC 9110 §12.5.5: the representation depends on Accept.
      Vary: 'Accept',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    let body: string;
    if (prefersJson(req.headers.accept)) {
      body = renderListingJson(segments, slice, pagination, sort);
      headers['Content-Type'] = 'application/json; charset=utf-8';
    } else {
      const { css, script, csp, uploadCsp } = listingAssets();
      const uploads = options.uploads === true;
      body = renderListingHtml({
        segments,
        entries: slice,
        sort,
        pagination,
        css,
        script,
        uploads,
      });
      headers['Content-Type'] = 'text/html; charset=utf-8';
      headers['Content-Security-Policy'] = uploads ? uploadCsp : csp;
      headers['Referrer-Policy'] = 'no-referrer';
    }
    headers['Content-Length'] = String(Buffer.byteLength(body));
    if (res.headersSent) return void res.destroy();
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** A read of the folder: one in progress or fresh enough to share, or a new one; undefined if busy. */
  async #snapshot(folder: ListedFolder): Promise<Snapshot | undefined> {
    const identity = folder.identity();
    const key = folder.key;
    const known = this.#snapshots.get(key);
    if (known !== undefined) {
      if (known.snapshot === undefined) return known.reading; // being read: share it
      if (
        known.snapshot.identity === identity &&
        performance.now() - known.snapshot.readAt < REUSE_MS
      ) {
        return known.snapshot;
      }
    }
    if (this.#running >= this.#concurrent && this.#waiting.length >= this.#queue) return undefined;
    const reading = this.#read(folder, identity);
    const shared: Shared = { reading };
    this.#snapshots.set(key, shared);
    const forget = () => {
      if (this.#snapshots.get(key) === shared) this.#snapshots.delete(key);
    };
    reading.then((snapshot) => {
      if (snapshot.entries.length < REUSE_MIN_ENTRIES) return forget();
      shared.snapshot = snapshot;
      setTimeout(forget, REUSE_MS).unref();
    }, forget);
    return reading;
  }

  async #read(folder: ListedFolder, identity: string): Promise<Snapshot> {
    await this.#turn();
    try {
      const { entries, truncated } = await folder.read(this.#maxEntries);
      return {
        identity,
        readAt: performance.now(),
        entries,
        truncated,
        counts: countEntries(entries),
        sorted: new Map(),
      };
    } finally {
      this.#done();
    }
  }

  #sorted(snapshot: Snapshot, sort: ListingSort): Promise<ListingEntry[]> {
    const key = `${sort.key}:${sort.order}`;
    let sorted = snapshot.sorted.get(key);
    if (sorted === undefined) {
      sorted = runSteps(sortInSteps(snapshot.entries, compareEntries(sort), SORT_BUDGET));
      snapshot.sorted.set(key, sorted);
    }
    return sorted;
  }

  /** Resolves in a turn of the event loop of its own, after the turns handed out before. */
  #renderTurn(): Promise<void> {
    const turn = this.#renders.then(() => yieldToOthers());
    this.#renders = turn;
    return turn;
  }

  #turn(): Promise<void> {
    if (this.#running < this.#concurrent) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #done() {
    const next = this.#waiting.shift();
    if (next === undefined) this.#running--;
    else next(); // the slot passes on
  }
}

/** Runs a step generator to its end, letting other work run between steps. */
async function runSteps<T>(steps: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldToOthers();
  }
}
