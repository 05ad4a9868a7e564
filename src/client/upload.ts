/**
 * `upload(file, url, options)`: a resumable upload to a tus server or a target of the IETF
 * resumable-upload draft, the other direction of `download()` with the same handle. The decisions
 * are core/upload/client-plan.ts's; the run is engine/upload-run.ts (one part per connection:
 * engine/upload-part.ts), the requests transport/upload-request.ts's and the saved state
 * store/upload-state.ts's.
 */

import { checkHttpUrl } from './engine/http-url.js';
import { UploadRun } from './engine/upload-run.js';
import type { UploadHandle, UploadOptions } from './types.js';

export { defaultStateDir, statePath } from './store/upload-state.js';
export type {
  UploadHandle,
  UploadOptions,
  UploadProgress,
  UploadResult,
  UploadState,
} from './types.js';

/**
 * Starts uploading `file` to `url` (a tus creation endpoint, or a file URL on a server speaking
 * the IETF draft). Returns at once with a handle: await `handle.done` for the result;
 * `pause()`/`resume()` stop and continue; `options.signal` aborts with the state saved (the
 * same call later continues from the server's offset).
 */
export function upload(file: string, url: string, options: UploadOptions = {}): UploadHandle {
  let run: UploadRun;
  try {
    checkHttpUrl(url, `Cannot upload to "${url}"`);
    run = new UploadRun(file, url, options);
  } catch (error) {
    // Bad options or URL: `done` rejects (a UsageError), as download()'s does; nothing started.
    return {
      done: Promise.reject(error),
      pause: () => undefined,
      resume: () => undefined,
      paused: false,
    };
  }
  const done = run.start();
  return {
    done,
    pause: () => run.pause(),
    resume: () => run.resume(),
    get paused() {
      return run.paused;
    },
  };
}
