/**
 * The `filename` metadata of an upload (issue 12): a path relative to the served folder, checked
 * with exactly the rules URL paths follow (core/url-path.ts `refuseSegment()`), plus what a URL
 * path forgives and a file name may not: an empty segment, `.`, a leading or trailing `/`.
 */

import { refuseSegment } from '../url-path.js';

export type UploadFilename =
  /** The segments, in order; each is a name the served folder could serve. */
  | { kind: 'ok'; segments: string[] }
  /** Not a name below the served folder; the upload is refused with 400 and nothing is written. */
  | { kind: 'invalid'; reason: string };

export interface CheckFilenameOptions {
  /** Accept names that start with a dot (as `--dotfiles` serves them). @default false */
  dotfiles?: boolean;
}

/** Checks a decoded `filename` metadata value (text, not percent-encoded). */
export function checkFilename(name: string, options: CheckFilenameOptions = {}): UploadFilename {
  if (name === '') return { kind: 'invalid', reason: 'empty filename' };
  const segments = name.split('/');
  for (const segment of segments) {
    // A URL path skips `//` and `/./`; a stored name has no such spelling (issue 12: "no empty
    // segment").
    if (segment === '') return { kind: 'invalid', reason: `empty segment in "${name}"` };
    if (segment === '.') return { kind: 'invalid', reason: `"." segment in "${name}"` };
    const refused = refuseSegment(segment, options);
    if (refused !== undefined) return { kind: 'invalid', reason: refused.reason };
  }
  const tooLong = longSegment(segments);
  if (tooLong !== undefined) return { kind: 'invalid', reason: tooLong };
  return { kind: 'ok', segments };
}

/** The longest name a file system takes in one path segment (NAME_MAX), in UTF-8 bytes. */
const MAX_SEGMENT_BYTES = 255;

/**
 * Why a target cannot be a file name (undefined when it can): a segment above MAX_SEGMENT_BYTES,
 * which every common file system refuses (ENAMETOOLONG), so the upload is refused at its creation.
 */
export function longSegment(segments: readonly string[]): string | undefined {
  const encoder = new TextEncoder();
  for (const segment of segments) {
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) {
      return `bad filename: a name above ${MAX_SEGMENT_BYTES} bytes`;
    }
  }
  return undefined;
}
