/**
 * The request header fields a user adds to a download (`-H 'Name: value'`, the `headers` option):
 * which ones are valid, which ones the engine keeps for itself, and on which hop of a redirect
 * chain they are sent. Pure: text in, a result out (house rule 2).
 */

/** One field as the user wrote it: `Name: value`. */
export interface HeaderField {
  name: string;
  value: string;
}

export type HeaderCheck =
  | { kind: 'ok'; name: string; value: string }
  | { kind: 'invalid'; reason: string };

/**
 * Fields the engine sets and a user value would break: the byte offsets (Range, If-Range,
 * Accept-Encoding, field gap 6), the preconditions whose 304/412 answers the engine does not
 * expect, the framing and the connection (RFC 9112 §6-§9), and the proxy credentials (they come
 * from the proxy URL). Lower-case names.
 */
export const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ['range', 'the engine asks for the ranges itself'],
  ['if-range', 'the engine sends the validator of the bytes it holds'],
  ['accept-encoding', 'the engine asks for the bytes as stored (identity)'],
  ['if-match', 'the engine checks the validators itself'],
  ['if-none-match', 'the engine checks the validators itself'],
  ['if-modified-since', 'the engine checks the validators itself'],
  ['if-unmodified-since', 'the engine checks the validators itself'],
  ['host', 'it is taken from the URL'],
  ['connection', 'the engine manages its connections'],
  ['keep-alive', 'the engine manages its connections'],
  ['proxy-connection', 'the engine manages its connections'],
  ['upgrade', 'the engine manages its connections'],
  ['te', 'the engine reads the framing itself'],
  ['transfer-encoding', 'a GET has no body'],
  ['content-length', 'a GET has no body'],
  ['expect', 'a GET has no body'],
  ['trailer', 'a GET has no body'],
  ['proxy-authorization', 'proxy credentials go in the proxy URL (http://user:pass@proxy:3128)'],
]);

/** RFC 9110 §5.6.2: token = 1*tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks one field. RFC 9110 §5.1: a field name is a token; §5.5: a field value is visible
 * characters, spaces and tabs (obs-text allowed), never CR, LF or NUL, with the surrounding
 * whitespace not part of it. A reserved name is refused with the reason.
 */
export function checkHeader(field: HeaderField): HeaderCheck {
  const { name } = field;
  if (!TOKEN.test(name)) {
    return { kind: 'invalid', reason: `"${name}" is not a valid field name` };
  }
  const value = field.value.replace(/^[ \t]+|[ \t]+$/g, '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
    return {
      kind: 'invalid',
      reason: `the value of ${name} holds a control character (CR, LF, NUL…)`,
    };
  }
  // Sent as Latin-1 bytes (RFC 9110 §5.5 obs-text); a character past U+00FF would be mangled.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at U+0000
  if (/[^\u0000-\u00ff]/u.test(value)) {
    return { kind: 'invalid', reason: `the value of ${name} holds a character outside Latin-1` };
  }
  const reserved = RESERVED_HEADERS.get(name.toLowerCase());
  if (reserved !== undefined) {
    return { kind: 'invalid', reason: `${name} cannot be set: ${reserved}` };
  }
  return { kind: 'ok', name, value };
}

/** Splits `Name: value` (curl's -H form) at the first colon; a result, never an exception. */
export function parseHeaderLine(line: string): HeaderCheck {
  const colon = line.indexOf(':');
  if (colon < 0)
    return { kind: 'invalid', reason: `"${line}" has no colon (expected Name: value)` };
  return checkHeader({ name: line.slice(0, colon), value: line.slice(colon + 1) });
}

/**
 * Merges fields into one record, keeping the first spelling of each name. A repeated name is
 * joined with `, ` (RFC 9110 §5.3), a repeated Cookie with `; ` (RFC 6265 §5.4).
 */
export function mergeHeaders(fields: readonly HeaderField[]): Record<string, string> {
  const out: Record<string, string> = {};
  const spelled = new Map<string, string>();
  for (const { name, value } of fields) {
    const key = name.toLowerCase();
    const first = spelled.get(key);
    if (first === undefined) {
      spelled.set(key, name);
      out[name] = value;
    } else {
      out[first] = `${out[first]}${key === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return out;
}

/**
 * The user's fields to send on one hop of a redirect chain. Like curl without
 * `--location-trusted`: they go only to the origin (scheme, host and port, RFC 6454 §4) of the URL
 * the user gave, so a redirect to another origin never carries them (Authorization and Cookie
 * included); a redirect back to that origin carries them again.
 */
export function headersForHop(
  headers: Readonly<Record<string, string>>,
  origins: { trusted: string; hop: string },
): Record<string, string> {
  return origins.trusted === origins.hop ? { ...headers } : {};
}
