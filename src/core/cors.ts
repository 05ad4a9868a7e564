/**
 * CORS (the Fetch standard, https://fetch.spec.whatwg.org/, §3.2 "CORS protocol"): which
 * Access-Control-* fields a response carries, and whether a request is a preflight to answer at
 * once. A web page on another origin can then read files, seek in media and send the range and
 * conditional fields that are not CORS-safelisted.
 */

/** Which origins may read responses: any (`*`), or exactly one serialized origin. */
export type CorsPolicy = { kind: 'any' } | { kind: 'origin'; origin: string };

export interface CorsRequest {
  method: string;
  /** The `Origin` field, if any. */
  origin?: string | undefined;
  /** The `Access-Control-Request-Method` field, if any. */
  requestMethod?: string | undefined;
}

export type CorsDecision =
  /** Answer now, 204 with these fields, and nothing else: a CORS-preflight request. */
  | { kind: 'preflight'; headers: Record<string, string> }
  /** Handle the request as usual and add these fields to its response (perhaps none). */
  | { kind: 'actual'; headers: Record<string, string> };

/** Methods a cross-origin page may use (Access-Control-Allow-Methods). */
export const CORS_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

/**
 * Request fields a cross-origin page may send. Fetch §2.2.2: `Range` is CORS-safelisted only as
 * one `bytes=N-` or `bytes=N-M` range, so a multi-range (or suffix) request is preflighted; the
 * conditional fields are never safelisted.
 */
export const CORS_ALLOWED_HEADERS = [
  'Range',
  'If-Range',
  'If-None-Match',
  'If-Match',
  'If-Modified-Since',
  'If-Unmodified-Since',
] as const;

/**
 * Response fields a cross-origin page may read beyond the CORS-safelisted ones (Fetch §2.2.6:
 * only Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified and
 * Pragma are readable without this). The one list to extend when uploads add their fields.
 */
export const CORS_EXPOSED_HEADERS = [
  'Content-Range',
  'Accept-Ranges',
  'ETag',
  'Content-Length',
  'Last-Modified',
] as const;

/** The methods uploads add (issue 12: tus 1.0.0, the IETF draft, plain PUT). */
export const CORS_UPLOAD_METHODS = ['POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** The request fields upload clients send (tus 1.0.0, the IETF draft), and the bearer token. */
export const CORS_UPLOAD_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Offset',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Checksum',
  'X-HTTP-Method-Override',
  'Upload-Complete',
  'Upload-Draft-Interop-Version',
] as const;

/** The response fields an upload client reads (tus-js-client reads Location and Upload-Offset). */
export const CORS_UPLOAD_EXPOSED_HEADERS = [
  'Location',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Tus-Checksum-Algorithm',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Expires',
  'Upload-Complete',
  'Upload-Limit',
  'Upload-Draft-Interop-Version',
] as const;

/** How long a browser may cache a preflight, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE = 7200;

/**
 * Reads a `--cors` value: `*` (or nothing) for any origin, else an `http(s)://host[:port]` origin
 * (a trailing `/` is allowed). Undefined when it is neither.
 */
export function parseCorsPolicy(text: string | undefined): CorsPolicy | undefined {
  if (text === undefined || text === '*') return { kind: 'any' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return undefined;
  }
  if (url.pathname !== '/' || /[?#]$/.test(text)) return undefined;
  // An origin is serialized as scheme://host[:port] (HTML's "ASCII serialization of an origin"),
  // lower-case host, no default port: that is what browsers send in Origin.
  return { kind: 'origin', origin: url.origin };
}

/** Decides the CORS part of the response to a request. */
export function planCors(
  req: CorsRequest,
  policy: CorsPolicy,
  options: { uploads?: boolean } = {},
): CorsDecision {
  const up = options.uploads === true;
  const headers: Record<string, string> = {};
  let allowed: string | undefined;
  if (policy.kind === 'any') {
    allowed = '*';
  } else {
    // Fetch §3.2.3: the answer depends on Origin, so caches must key on it (RFC 9110 §12.5.5).
    headers.Vary = 'Origin';
    if (req.origin === policy.origin) allowed = policy.origin;
  }
  // Fetch §3.2.2: a CORS-preflight request is an OPTIONS request with Origin and
  // Access-Control-Request-Method.
  const preflight =
    req.method.toUpperCase() === 'OPTIONS' &&
    req.origin !== undefined &&
    req.requestMethod !== undefined;
  if (allowed === undefined) return { kind: 'actual', headers };
  headers['Access-Control-Allow-Origin'] = allowed;
  if (preflight) {
    // Fetch §3.2.3: a successful preflight is an ok status (204 here) with the allowed methods
    // and headers; Max-Age lets the browser skip the preflight for a while.
    const methods = up ? [...CORS_METHODS, ...CORS_UPLOAD_METHODS] : CORS_METHODS;
    const fields = up
      ? [...CORS_ALLOWED_HEADERS, ...CORS_UPLOAD_ALLOWED_HEADERS]
      : CORS_ALLOWED_HEADERS;
    headers['Access-Control-Allow-Methods'] = methods.join(', ');
    headers['Access-Control-Allow-Headers'] = fields.join(', ');
    headers['Access-Control-Max-Age'] = String(CORS_MAX_AGE);
    return { kind: 'preflight', headers };
  }
  const exposed = up
    ? [...CORS_EXPOSED_HEADERS, ...CORS_UPLOAD_EXPOSED_HEADERS]
    : CORS_EXPOSED_HEADERS;
  headers['Access-Control-Expose-Headers'] = exposed.join(', ');
  return { kind: 'actual', headers };
}
