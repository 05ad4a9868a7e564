/**
 * The bytes of an HTTP/1.1 GET request (RFC 9112 §3), checked before anything is sent: a field
 * name must be a token and a field value must hold no CR, LF or NUL (RFC 9110 §5.1, §5.5), so a
 * value can never end the head early or smuggle in a second request. Pure.
 */
import { isTchar } from './http1-fields.js';

/**
 * `GET target HTTP/1.1` with Host, `Connection: close` and `headers` (names as given), as latin1
 * text. The target is in origin-form (`/path?query`), or with `absolute` in absolute-form
 * (`http://host:port/path?query`, RFC 9112 §3.2.2: "When making a request to a proxy, other than
 * a CONNECT or server-wide OPTIONS request, a client MUST send the target URI in absolute-form"),
 * never with a fragment or credentials. Throws a TypeError for an invalid field name or a value
 * with CR, LF or NUL (a programmer error: node:http throws one too).
 */
export function formatRequest(
  url: URL,
  headers: Record<string, string>,
  options: { absolute?: boolean } = {},
): string {
  const path = `${url.pathname}${url.search}`;
  const origin = path === '' ? '/' : path;
  const target = options.absolute === true ? `${url.protocol}//${url.host}${origin}` : origin;
  let request = `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (name.length === 0 || !isToken(name)) {
      throw new TypeError(`Cannot send header ${JSON.stringify(name)}: the name is not a token`);
    }
    if (value.includes('\r') || value.includes('\n') || value.includes('\0')) {
      throw new TypeError(`Cannot send header "${name}": value contains CR, LF or NUL`);
    }
    // Beyond latin1, a character would not survive the latin1 encoding of the request.
    if (!isLatin1(value)) {
      throw new TypeError(`Cannot send header "${name}": value has a character above U+00FF`);
    }
    request += `${name}: ${value}\r\n`;
  }
  return `${request}\r\n`;
}

function isToken(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (!isTchar(name.charCodeAt(i))) return false;
  return true;
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}
