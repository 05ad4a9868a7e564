/**
 * Which proxy a download request goes through, read from the variables curl reads: `https_proxy`
 * for https URLs, `http_proxy` for http URLs, `no_proxy` for the hosts reached directly, each also
 * in upper case (the lower-case name wins when both are set, as in curl). Pure: the variables are
 * a parameter (the shell passes the environment).
 */

/** A proxy to send a request through (an `http://` proxy: ranged speaks plain HTTP to it). */
export interface ProxyServer {
  host: string;
  port: number;
  /** `Basic …` from the credentials in the proxy URL (RFC 9110 §11.7.2, RFC 7617). */
  authorization: string | undefined;
  /** `http://host:port`, without credentials: safe to print. */
  display: string;
  /** The variable it came from (`HTTPS_PROXY`, `http_proxy`…), for messages. */
  variable: string;
}

export type ProxyChoice =
  | { kind: 'direct' }
  | { kind: 'proxy'; proxy: ProxyServer }
  /** The variable holds something that is not an http:// proxy URL. */
  | { kind: 'invalid'; variable: string; reason: string };

/** The port curl uses for a proxy URL without one. */
export const DEFAULT_PROXY_PORT = 1080;

type Env = Readonly<Record<string, string | undefined>>;

/** The first of `names` that is set to a non-empty value. */
function pick(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/**
 * Parses a proxy URL as curl does: a missing scheme means `http://`, a missing port is 1080;
 * `user:pass@` (percent-decoded) becomes a Basic Proxy-Authorization. Only `http://` proxies are
 * supported (no TLS to the proxy, no SOCKS).
 */
export function parseProxy(value: string, variable: string): ProxyChoice {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: 'invalid', variable, reason: `"${value}" is not a URL` };
  }
  if (url.protocol !== 'http:') {
    return {
      kind: 'invalid',
      variable,
      reason: `"${url.protocol}//" proxies are not supported (only http://)`,
    };
  }
  if (url.hostname === '') return { kind: 'invalid', variable, reason: `"${value}" has no host` };
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    let user: string;
    let pass: string;
    try {
      user = decodeURIComponent(url.username);
      pass = decodeURIComponent(url.password);
    } catch {
      return { kind: 'invalid', variable, reason: 'its credentials are badly percent-encoded' };
    }
    authorization = `Basic ${base64(`${user}:${pass}`)}`;
  }
  const port = url.port === '' ? DEFAULT_PROXY_PORT : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    kind: 'proxy',
    proxy: { host, port, authorization, display: `http://${url.hostname}:${port}`, variable },
  };
}

/** RFC 4648 base64 of the UTF-8 bytes of `text` (RFC 7617 §2.1 allows UTF-8). */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The proxy for a request to `url`: the scheme's variable unless NO_PROXY names its host (then
 * direct). Lower-case names win over upper-case ones, as in curl.
 */
export function proxyFor(url: URL, env: Env): ProxyChoice {
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const set = pick(env, [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`]);
  if (set === undefined) return { kind: 'direct' };
  const noProxy = pick(env, ['no_proxy', 'NO_PROXY']);
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  if (noProxy !== undefined && bypassesProxy(url.hostname, port, noProxy.value)) {
    return { kind: 'direct' };
  }
  return parseProxy(set.value, set.name);
}

/**
 * Whether NO_PROXY names `host` (as in a URL: brackets around IPv6) at `port`. Entries are
 * separated by commas (or spaces); `*` alone matches every host. A name matches itself and every
 * subdomain (`example.com` and `.example.com` both match `www.example.com` and `example.com`,
 * never `notexample.com`); `host:port` matches that port only; an IP matches itself, an IPv4
 * `a.b.c.d/n` every address in that block. Case and a final dot are ignored.
 */
export function bypassesProxy(host: string, port: number, noProxy: string): boolean {
  const name = normalize(host);
  // An address matches only itself or a block; a suffix of it means nothing.
  const address = ipv4(name) !== undefined || name.includes(':');
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw === '*') return true;
    const entry = splitPort(raw);
    if (entry.port !== undefined && entry.port !== port) continue;
    const pattern = normalize(entry.host).replace(/^\.+/, '');
    if (pattern === '') continue;
    const slash = pattern.indexOf('/');
    if (slash >= 0) {
      if (inCidr(name, pattern.slice(0, slash), pattern.slice(slash + 1))) return true;
      continue;
    }
    if (name === pattern || (!address && name.endsWith(`.${pattern}`))) return true;
  }
  return false;
}

function normalize(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** `host:port`, `[v6]:port`, `v6` (several colons: no port), `host`. */
function splitPort(entry: string): { host: string; port: number | undefined } {
  const bracket = /^(\[[^\]]*\])(?::([0-9]+))?$/.exec(entry);
  if (bracket !== null) {
    return {
      host: bracket[1] as string,
      port: bracket[2] === undefined ? undefined : Number(bracket[2]),
    };
  }
  const m = /^([^:]*):([0-9]+)$/.exec(entry);
  if (m !== null) return { host: m[1] as string, port: Number(m[2]) };
  return { host: entry, port: undefined };
}

function ipv4(text: string): number | undefined {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(text);
  if (m === null) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    const byte = Number(part);
    if (byte > 255) return undefined;
    n = n * 256 + byte;
  }
  return n;
}

function inCidr(host: string, network: string, bitsText: string): boolean {
  const address = ipv4(host);
  const base = ipv4(network);
  if (address === undefined || base === undefined || !/^[0-9]{1,2}$/.test(bitsText)) return false;
  const bits = Number(bitsText);
  if (bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(base / size);
}

/**
 * What a proxy's answer to CONNECT means (RFC 9110 §9.3.6: "Any 2xx (Successful) response
 * indicates that the sender (and all inbound proxies) will switch to tunnel mode"). `head` is the
 * response head without the final CRLF CRLF.
 */
export function connectVerdict(
  head: string,
): { kind: 'tunnel' } | { kind: 'refused'; status: number; reason: string } | { kind: 'invalid' } {
  const m = /^HTTP\/1\.[01] ([0-9]{3})(?: ([^\r\n]*))?(?:\r\n|$)/.exec(head);
  if (m === null) return { kind: 'invalid' };
  const status = Number(m[1]);
  if (status >= 200 && status < 300) return { kind: 'tunnel' };
  return { kind: 'refused', status, reason: (m[2] ?? '').trim() };
}
