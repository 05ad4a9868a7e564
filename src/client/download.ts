/**
 * `download(url, options)`: a resumable, segmented, verified HTTP download.
 *
 * The data lives in `OUT.part`, its journal in `OUT.part.json`; `OUT` appears only when every byte
 * is held (and the checksum matches), by an atomic rename. The decisions are made by core/:
 * `segments.ts` (who fetches which bytes), `journal.ts` (what is saved), `resume.ts` and
 * `probe.ts` (whether a response or a journal can be trusted, and what to do with it),
 * `backoff.ts` (retries) and `progress.ts` (rate, ETA). The client moves bytes, in three layers
 * with one import direction (test/unit/architecture.test.ts):
 *
 * - `download.ts` (this file): the public entry point; `types.ts`: the public types.
 * - `engine/`: the outer loop (`download-loop.ts`), one pass (`attempt.ts`), the work
 *   (`scheduler.ts`, `fetch-segmented.ts`, `fetch-plain.ts`, `fetch-claim.ts`), retries
 *   (`retry.ts`), defaults (`defaults.ts`).
 * - `transport/`: one range request with redirects (`range-request.ts`) over the HTTP/1.1
 *   reader (`http1.ts`) or node:https.
 * - `store/`: the part file and its journals (`part-store.ts`, the commit order of house rule 8),
 *   trusting a journal, the checksum.
 */
import { DownloadLoop } from './engine/download-loop.js';
import { requestRange } from './transport/range-request.js';
import type { DownloadHandle, DownloadOptions } from './types.js';

export { partPaths } from './store/part-paths.js';
export type {
  DownloadHandle,
  DownloadOptions,
  DownloadProgress,
  DownloadResult,
  DownloadState,
} from './types.js';

/**
 * Starts downloading `url` to `options.output`. Returns at once with a handle: await
 * `handle.done` for the result; `pause()`/`resume()` stop and continue; `options.signal` aborts.
 */
export function download(url: string, options: DownloadOptions): DownloadHandle {
  const loop = new DownloadLoop(url, options, { transport: requestRange });
  const done = loop.start();
  return {
    done,
    pause: () => loop.pause(),
    resume: () => loop.resume(),
    get paused() {
      return loop.paused;
    },
  };
}
