/**
 * Internal errors the engine throws to unwind a pass; they never leave `download()` (the public
 * ones are in errors.ts). Each is a subclass of the public error it would become.
 */
import { AbortedError, HttpStatusError, RemoteChangedError } from '../../errors.js';

/** The pass stopped for a pause. */
export class PauseStop extends AbortedError {}

/** Start over: the remote file changed, or the bytes held cannot be trusted. */
export class RestartNeeded extends RemoteChangedError {}

/** A status that may be retried, with the server's Retry-After. */
export class StatusFailure extends HttpStatusError {
  retryAfterMs: number | undefined;
  constructor(
    message: string,
    details: { status: number; url: string },
    retryAfterMs: number | undefined,
  ) {
    super(message, details);
    this.retryAfterMs = retryAfterMs;
  }
}

/** This connection is refused but others work: continue with fewer. */
export class Retire extends HttpStatusError {}

/** The error `done` rejects with when the caller's signal stops the download. */
export function stoppedError(output: string, journalPath: string): AbortedError {
  return new AbortedError(`Cannot finish "${output}": stopped, progress saved in "${journalPath}"`);
}
