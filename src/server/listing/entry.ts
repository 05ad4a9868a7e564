/**
 * A folder listing's entries and their links. Pure (no node:* import, no clock): the shell
 * (listings.ts) reads the folder; this module, order.ts and pages.ts are the listing's model, and
 * entry.ts and order.ts are also compiled into the page's script, so the page sorts as the server.
 */

export interface ListingEntry {
  name: string;
  /** `directory` or `file`. */
  kind: 'directory' | 'file';
  /** Size in bytes; `null` for folders. */
  size: number | null;
  /**
   * Modification time, ISO 8601 in UTC (`2024-05-01T12:34:56.789Z`); `null` when the source has
   * none (a folder of an S3 bucket is only a key prefix).
   */
  mtime: string | null;
  /** Content-Type for files, `inode/directory` for folders. */
  type: string;
  /** The strong ETag the file is served with; `null` for folders. */
  etag: string | null;
  /**
   * The name's exact bytes, when they are not valid UTF-8 (`name` then shows U+FFFD where bytes
   * could not be read); links are made from these bytes.
   */
  bytes?: Uint8Array;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * Percent-encodes one path segment (RFC 3986 §3.3): everything but unreserved characters, so `#`,
 * `?`, `%`, `;`, `:` and the quotes `encodeURIComponent` leaves (`!'()*`) cannot end the path,
 * start a query or fragment, read as a scheme, or break out of a shell word. A string is encoded
 * as its UTF-8 bytes, so a name and its bytes give the same text.
 */
export function encodePathSegment(name: string | Uint8Array): string {
  if (typeof name !== 'string') {
    let out = '';
    for (const byte of name) {
      out += UNRESERVED.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  }
  return encodeURIComponent(name).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const utf8 = new TextEncoder();

/**
 * The bytes a percent-encoded path segment stands for (RFC 3986 §2.1), whether or not they are
 * UTF-8: the inverse of `encodePathSegment()`. Other characters (and a `%` without two hex digits
 * after it) stand for their UTF-8 bytes.
 */
export function decodePathSegment(segment: string): Uint8Array {
  const out: number[] = [];
  let text = '';
  for (let i = 0; i < segment.length; i++) {
    const hex = segment[i] === '%' ? segment.slice(i + 1, i + 3) : '';
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      text += segment[i];
      continue;
    }
    out.push(...utf8.encode(text), Number.parseInt(hex, 16));
    text = '';
    i += 2;
  }
  out.push(...utf8.encode(text));
  return Uint8Array.from(out);
}

/** The link to an entry, relative to its folder's URL (folders end in `/`). */
export function entryHref(entry: Pick<ListingEntry, 'name' | 'kind' | 'bytes'>): string {
  return encodePathSegment(entry.bytes ?? entry.name) + (entry.kind === 'directory' ? '/' : '');
}
