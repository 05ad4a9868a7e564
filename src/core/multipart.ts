/**
 * multipart/byteranges framing, RFC 9110 §14.6 (with the RFC 2046 §5.1.1 delimiter grammar).
 */
import { formatContentRange } from './content-range.js';
import type { ByteRange } from './range.js';

/** Either literal bytes (framing) or an inclusive slice of the file. */
export type BodyPart = { bytes: Uint8Array } | { start: number; end: number };

export interface MultipartOptions {
  size: number;
  /** Content-Type of the representation, repeated in every part. */
  type: string;
  /** 1 to 70 characters from the RFC 2046 bchars set; the caller makes it random. */
  boundary: string;
}

const encoder = new TextEncoder();

/**
 * Plans a multipart/byteranges body: the parts in order and their total length, so that
 * Content-Length is exact before a byte is sent.
 *
 * ```
 * --BOUNDARY CRLF Content-Type: T CRLF Content-Range: bytes a-b/size CRLF CRLF <data>
 * CRLF --BOUNDARY ... CRLF --BOUNDARY-- CRLF
 * ```
 */
export function planMultipart(
  ranges: readonly ByteRange[],
  options: MultipartOptions,
): { parts: BodyPart[]; length: number } {
  if (!/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(options.boundary)) {
    throw new RangeError(`Cannot frame multipart body: invalid boundary "${options.boundary}"`);
  }
  const parts: BodyPart[] = [];
  let length = 0;
  const push = (part: BodyPart) => {
    parts.push(part);
    length += 'bytes' in part ? part.bytes.length : part.end - part.start + 1;
  };
  ranges.forEach((range, i) => {
    const head =
      `${i === 0 ? '' : '\r\n'}--${options.boundary}\r\n` +
      `Content-Type: ${options.type}\r\n` +
      `Content-Range: ${formatContentRange(range, options.size)}\r\n\r\n`;
    push({ bytes: encoder.encode(head) });
    push({ start: range.start, end: range.end });
  });
  push({ bytes: encoder.encode(`\r\n--${options.boundary}--\r\n`) });
  return { parts, length };
}
