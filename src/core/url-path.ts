/**
 * Turns a request-target into a list of safe path segments below the served root, or a refusal.
 * The shell still confirms the real path stays inside the root (symlinks), but nothing that
 * leaves this function can name a parent folder.
 */

export type UrlPath =
  /**
   * Decoded segments, none empty, `.`, `..`, or containing `/`, `\` or NUL. `segments` are text;
   * a name whose bytes are not valid UTF-8 shows U+FFFD there, and then `bytes` holds every
   * segment's exact bytes (the name on disk).
   */
  | {
      kind: 'ok';
      segments: string[];
      trailingSlash: boolean;
      query: string;
      bytes?: Uint8Array[];
    }
  /** Malformed: bad percent-encoding, a NUL byte, a `..` segment, not origin-form. */
  | { kind: 'bad-request'; reason: string }
  /** Well-formed but never served: hidden (dot) files, encoded separators. */
  | { kind: 'not-found'; reason: string };

export interface ResolveUrlPathOptions {
  /** Serve names that start with a dot. @default false */
  dotfiles?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/**
 * Percent-decodes one segment to bytes (RFC 3986 §2.1); undefined if a `%` is not followed by two
 * hex digits.
 */
export function percentDecode(piece: string): Uint8Array | undefined {
  if (!piece.includes('%')) return utf8Encoder.encode(piece);
  const out: number[] = [];
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c === 0x25) {
      const hex = piece.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // A raw non-ASCII character in the target: its UTF-8 bytes.
      const end = c >= 0xd800 && c <= 0xdbff ? i + 2 : i + 1;
      out.push(...utf8Encoder.encode(piece.slice(i, end)));
      i = end - 1;
    }
  }
  return Uint8Array.from(out);
}

/** Why a segment is never a name below the root, or undefined. */
export type SegmentRefusal =
  | { kind: 'bad-request'; reason: string }
  | { kind: 'not-found'; reason: string };

/**
 * The rules one decoded, non-empty segment (not `.`) follows, shared by URL paths and the
 * upload `filename` (core/upload/filename.ts): no `..`, NUL or `\`, and a dot-name only with
 * `dotfiles`.
 */
export function refuseSegment(
  segment: string,
  options: ResolveUrlPathOptions = {},
): SegmentRefusal | undefined {
  if (segment === '..') return { kind: 'bad-request', reason: 'path climbs above the root' };
  if (segment.includes('\0')) return { kind: 'bad-request', reason: 'NUL byte in path' };
  if (segment.includes('\\')) return { kind: 'not-found', reason: 'encoded path separator' };
  if (segment.startsWith('.') && options.dotfiles !== true) {
    return { kind: 'not-found', reason: 'hidden file' };
  }
  return undefined;
}

/**
 * Resolves the path of a request-target (RFC 9110 §7.1, origin-form; absolute-form is reduced to
 * its path). Each segment is percent-decoded once, after splitting on `/`, so `%2f` can never
 * become a separator and `%252e` stays the literal name `%2e`. Decoded bytes that are not UTF-8
 * still name a file (Linux names are bytes): `/%FF.txt` is the file whose name is 0xFF `.txt`.
 */
export function resolveUrlPath(target: string, options: ResolveUrlPathOptions = {}): UrlPath {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    // absolute-form (`http://host/path`) is allowed by RFC 9112 §3.2.2; anything else is not.
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(target);
    if (m === null) return { kind: 'bad-request', reason: 'request-target is not a path' };
    pathAndQuery = m[1] === undefined || m[1] === '' ? '/' : m[1];
    if (!pathAndQuery.startsWith('/')) pathAndQuery = `/${pathAndQuery}`;
  }
  const hash = pathAndQuery.indexOf('#');
  if (hash !== -1) pathAndQuery = pathAndQuery.slice(0, hash);
  const q = pathAndQuery.indexOf('?');
  const rawPath = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q === -1 ? '' : pathAndQuery.slice(q);

  const segments: string[] = [];
  // Exact bytes, kept only for names that were percent-encoded (the rest are plain text).
  const encoded: (Uint8Array | undefined)[] = [];
  let allText = true;
  for (const piece of rawPath.split('/')) {
    let segment = piece;
    let decoded: Uint8Array | undefined;
    if (piece.includes('%')) {
      decoded = percentDecode(piece);
      if (decoded === undefined) {
        return { kind: 'bad-request', reason: `malformed percent-encoding in "${piece}"` };
      }
      if (decoded.includes(0)) return { kind: 'bad-request', reason: 'NUL byte in path' };
      try {
        segment = utf8.decode(decoded);
      } catch {
        segment = lossy.decode(decoded);
        allText = false;
      }
      if (decoded.includes(0x2f)) return { kind: 'not-found', reason: 'encoded path separator' };
    }
    if (segment === '' || segment === '.') continue;
    const refused = refuseSegment(segment, options);
    if (refused !== undefined) return refused;
    segments.push(segment);
    encoded.push(decoded);
  }
  const trailingSlash = rawPath.endsWith('/') && segments.length > 0;
  if (allText) return { kind: 'ok', segments, trailingSlash, query };
  const bytes = segments.map((s, i) => encoded[i] ?? utf8Encoder.encode(s));
  return { kind: 'ok', segments, trailingSlash, query, bytes };
}
