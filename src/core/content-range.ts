/**
 * Content-Range, RFC 9110 §14.4, for the server (format) and the client (parse and check).
 */
import { type ByteRange, parsePosition } from './range.js';

/** `bytes 0-499/1234` for a range, `bytes *\/1234` for a 416 (§14.4: unsatisfied-range). */
export function formatContentRange(range: ByteRange | undefined, size: number): string {
  return range === undefined ? `bytes */${size}` : `bytes ${range.start}-${range.end}/${size}`;
}

export type ContentRange =
  | { kind: 'range'; start: number; end: number; size: number | undefined }
  | { kind: 'unsatisfied'; size: number };

/**
 * Parses a Content-Range value. Returns undefined for anything malformed, including a range whose
 * last-pos is before its first-pos or not below a known complete-length (§14.4: "invalid").
 */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|(\*))\/(\d+|\*)\s*$/i.exec(value);
  if (m === null) return undefined;
  const sizeText = m[4] ?? '*';
  const size = sizeText === '*' ? undefined : parsePosition(sizeText);
  if (m[3] === '*') return size === undefined ? undefined : { kind: 'unsatisfied', size };
  const start = parsePosition(m[1] ?? '');
  const end = parsePosition(m[2] ?? '');
  if (start === undefined || end === undefined || end < start) return undefined;
  if (size !== undefined && end >= size) return undefined;
  return { kind: 'range', start, end, size };
}
