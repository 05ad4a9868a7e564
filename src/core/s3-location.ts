/**
 * `s3://BUCKET[/PREFIX]`: which bucket and which folder of it a server serves, and the object keys
 * a request's path segments name. Pure: the S3 source (server/sources/s3.ts) does the I/O.
 *
 * A prefix is a folder: `s3://media/site` serves the keys under `site/`, so `site-other/x` is never
 * reachable (every key is built as `site/` + segments joined by `/`, and segments never hold `/`).
 */

export interface S3Location {
  bucket: string;
  /** '' for the whole bucket, else the folder's key prefix ending in `/` (`site/`). */
  prefix: string;
}

export type ParsedS3Location =
  | { kind: 'ok'; location: S3Location }
  | { kind: 'bad'; reason: string };

/**
 * Bucket names as S3 allows them (3 to 63 lowercase letters, digits, dots and hyphens, starting and
 * ending with a letter or digit; AWS "Bucket naming rules"). Ceph RGW refuses shorter names too.
 */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True if `text` is meant as an S3 location (`s3://…`), whether or not it is a valid one. */
export function isS3Url(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

/** Parses `s3://BUCKET[/PREFIX][/]`. */
export function parseS3Location(text: string): ParsedS3Location {
  if (!isS3Url(text)) return { kind: 'bad', reason: 'expected s3://BUCKET[/PREFIX]' };
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    return {
      kind: 'bad',
      reason: `"${bucket}" is not a bucket name (3-63 lowercase letters, digits, dots, hyphens)`,
    };
  }
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  const segments = path.split('/').filter((s) => s !== '');
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || segment.includes('\0')) {
      return { kind: 'bad', reason: `"${segment}" cannot be part of a prefix` };
    }
  }
  const prefix = segments.length === 0 ? '' : `${segments.join('/')}/`;
  return { kind: 'ok', location: { bucket, prefix } };
}

/** The key of the object (or folder prefix, with `folder`) that URL path segments name. */
export function keyFor(location: S3Location, segments: readonly string[], folder = false): string {
  const joined = segments.join('/');
  if (!folder) return `${location.prefix}${joined}`;
  return joined === '' ? location.prefix : `${location.prefix}${joined}/`;
}
