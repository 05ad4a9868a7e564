/**
 * The probe: the first request of every pass of the download client, and what its answer means
 * for the pass. Pure: the journal (if any) and the verdict on the response in, a plan out.
 */
import { type Journal, newJournal } from './journal.js';
import type { Asked, Verdict } from './resume.js';
import { planSegments } from './segments.js';

export interface ProbeOptions {
  /** Connections the download will use for a file of this size. */
  connections: number;
  /** Smallest segment planned. */
  minBytes: number;
}

/**
 * What the probe asks for. A new download asks for `bytes=0-` (any version is welcome, and the
 * answer tells whether the server honours Range). A resume asks for exactly the first segment it
 * would plan, so the probe's connection keeps every byte it is sent; a journal from a server
 * without ranges asks for the whole file.
 */
export function probeRange(journal: Journal | undefined, options: ProbeOptions): Asked {
  const ranged = journal === undefined || journal.acceptRanges;
  if (journal === undefined || !ranged || journal.size === undefined) {
    return { start: 0, end: undefined, ranged };
  }
  const first = planSegments(journal.size, {
    connections: options.connections,
    minBytes: options.minBytes,
    done: journal.done,
  })[0];
  return first === undefined
    ? { start: 0, end: undefined, ranged: true }
    : { start: first.start, end: first.end, ranged: true };
}

export type ProbeOutcome =
  /** The remote file is not the version the journal holds (or cannot be shown to be). */
  | { kind: 'restart'; reason: string }
  /** An empty file on a new download: the journal to finish with. */
  | { kind: 'empty'; journal: Journal }
  /**
   * A 206: segmented mode. The probe's response serves the segment at `claimStart`; its body
   * starts at `bodyStart` (earlier when the server sent more than asked).
   */
  | { kind: 'ranged'; journal: Journal; claimStart: number; bodyStart: number }
  /** A 200: one plain stream; `notice` says why, when worth saying. */
  | { kind: 'plain'; journal: Journal; notice: string | undefined }
  /** A verdict the probe never gets (invalid and status verdicts are errors before this). */
  | { kind: 'unexpected' };

/**
 * What the probe's verdict means for the pass. `url` is the URL the user gave (the journal keeps
 * it, not the one redirects led to).
 */
export function probeOutcome(
  url: string,
  journal: Journal | undefined,
  verdict: Verdict,
): ProbeOutcome {
  switch (verdict.kind) {
    case 'changed':
      return { kind: 'restart', reason: verdict.reason };
    case 'complete':
      // Only a new download of an empty file gets here: 416 with `bytes */0`.
      return {
        kind: 'empty',
        journal: newJournal(url, {
          size: 0,
          etag: undefined,
          lastModified: undefined,
          acceptRanges: true,
        }),
      };
    case 'partial':
      return {
        kind: 'ranged',
        journal: journal ?? newJournal(url, { ...verdict.version, acceptRanges: true }),
        claimStart: verdict.start + verdict.skip,
        bodyStart: verdict.start,
      };
    case 'full': {
      // A 200: the server ignores Range (or the file changed and If-Range said so).
      const size = verdict.version.size;
      if (journal !== undefined && verdict.sameVersion && journal.size === size) {
        return {
          kind: 'plain',
          journal: { ...journal, acceptRanges: false },
          notice: journal.acceptRanges
            ? 'The server ignored the Range request: continuing as one plain stream'
            : undefined,
        };
      }
      if (journal !== undefined && journal.done.length > 0) {
        return {
          kind: 'restart',
          reason: verdict.sameVersion
            ? `size is ${size ?? 'unknown'}, expected ${journal.size}`
            : 'the server answered 200 to If-Range',
        };
      }
      return {
        kind: 'plain',
        journal: newJournal(url, { ...verdict.version, acceptRanges: false }),
        notice:
          'The server does not support ranges: one connection; an interrupted download will fetch again from the start',
      };
    }
    default:
      return { kind: 'unexpected' };
  }
}
