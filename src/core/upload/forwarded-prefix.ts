/**
 * `X-Forwarded-Prefix`: the path a reverse proxy stripped before passing the request on (Traefik's
 * StripPrefix sends it; nginx with `proxy_set_header X-Forwarded-Prefix /files;`; Spring and
 * ASP.NET read it). ranged puts it in front of an upload's `Location` (tus 1.0.0 §Creation, the
 * draft's 104/201), so a client behind such a proxy is sent to the upload under the URL it used.
 * Only a plain path is taken: `/` then segments of URL path characters (RFC 3986 §3.3 pchar),
 * none empty, `.` or `..`, at most 256 characters; anything else is ignored (no prefix). The
 * field can come from anyone, but only moves the Location answered to the one who sent it.
 */

const MAX_PREFIX = 256;
const SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

/** The prefix without a trailing `/` (`/files`), or '' when absent or not a plain path. */
export function forwardedPrefix(value: string | string[] | undefined): string {
  const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() ?? '';
  if (first === '' || first === '/' || first.length > MAX_PREFIX || !first.startsWith('/'))
    return '';
  const segments = first.replace(/\/$/, '').slice(1).split('/');
  // `.` and `..`, also percent-encoded (`%2e%2e`, which a browser resolves as `..`).
  const plain = segments.every((s) => SEGMENT.test(s) && !/^(?:\.|%2e){1,2}$/i.test(s));
  return plain ? `/${segments.join('/')}` : '';
}
