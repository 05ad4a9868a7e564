/**
 * Turns a request-target into a list of safe path segments below the served root, or a refusal.
 * The shell still confirms the real path stays inside the root (symlinks), but nothing that
 * leaves this function can name a parent folder.
 */

export type UrlPath =
  /** Decoded segments, none empty, `.`, `..`, or containing `/`, `\` or NUL. */
  | { kind: 'ok'; segments: string[]; trailingSlash: boolean; query: string }
  /** Malformed: bad percent-encoding, a NUL byte, a `..` segment, not origin-form. */
  | { kind: 'bad-request'; reason: string }
  /** Well-formed but never served: hidden (dot) files, encoded separators. */
  | { kind: 'not-found'; reason: string };

export interface ResolveUrlPathOptions {
  /** Serve names that start with a dot. @default false */
  dotfiles?: boolean;
}

/**
 * Resolves the path of a request-target (RFC 9110 §7.1, origin-form; absolute-form is reduced to
 * its path). Each segment is percent-decoded once, after splitting on `/`, so `%2f` can never
 * become a separator and `%252e` stays the literal name `%2e`.
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
  const raw = rawPath.split('/');
  for (const piece of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(piece);
    } catch {
      return { kind: 'bad-request', reason: `malformed percent-encoding in "${piece}"` };
    }
    if (segment.includes('\0')) return { kind: 'bad-request', reason: 'NUL byte in path' };
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { kind: 'bad-request', reason: 'path climbs above the root' };
    if (segment.includes('/') || segment.includes('\\')) {
      return { kind: 'not-found', reason: 'encoded path separator' };
    }
    if (segment.startsWith('.') && options.dotfiles !== true) {
      return { kind: 'not-found', reason: 'hidden file' };
    }
    segments.push(segment);
  }
  const trailingSlash = rawPath.endsWith('/') && segments.length > 0;
  return { kind: 'ok', segments, trailingSlash, query };
}
