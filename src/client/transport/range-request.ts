/**
 * One download request: sends `Accept-Encoding: identity`, an optional Range and If-Range, follows
 * redirects, and turns socket failures into NetworkErrors. `http:` goes over `openHttp1()` (one
 * reused read buffer per connection); `https:` over node:https (`https-request.ts`). Each hop
 * picks its proxy (core `proxyFor()` over HTTP_PROXY, HTTPS_PROXY, NO_PROXY): an http URL is then
 * asked of the proxy in absolute-form over the same reader, an https URL through a CONNECT tunnel
 * with TLS to the origin. The caller checks the response
 * (core/resume.ts) and reads the body (`body.read()`), so nothing here decides.
 */
import type https from 'node:https';
import { type ProxyServer, proxyFor } from '../../core/proxy.js';
import { headersForHop } from '../../core/request-headers.js';
import { HttpStatusError, NetworkError, UsageError } from '../../errors.js';
import { networkReason, openHttp1, type ResponseBody } from './http1.js';
import { type Answer, requestHttps } from './https-request.js';
import { networkCode, networkError } from './network-error.js';

export type { BodySink, ResponseBody } from './http1.js';
export { isCertificateError, networkCode, networkError } from './network-error.js';

export interface RangeRequestOptions {
  /** Bytes to ask for: `bytes=start-` when `end` is undefined, else `bytes=start-(end-1)`. */
  range?: { start: number; end: number | undefined } | undefined;
  /** If-Range value (a strong ETag or an HTTP-date). */
  ifRange?: string | undefined;
  /** Aborts the request and its body. */
  signal: AbortSignal;
  /** Redirects followed before giving up. */
  maxRedirects: number;
  /** Follow a redirect from https to http (refused when not true: it drops TLS). */
  allowInsecureRedirect?: boolean;
  /** No response headers within this many ms is a failure. */
  timeout: number;
  /** Size of the reused read buffer for `http:` bodies. */
  bufferSize: number;
  /** Holds the keep-alive agent for https requests, created here on first use; the caller
   * destroys it when done. */
  agents?: { https?: https.Agent };
  /** The user's header fields (checked by core `checkHeader()`), sent only to `headersOrigin`. */
  headers?: Record<string, string>;
  /** The origin the user's fields go to. @default the origin of the URL asked for */
  headersOrigin?: string;
  /** TLS for https: skip verification, or trust these PEM roots instead of the defaults. */
  tls?: { insecure: boolean; ca: string | undefined };
  /** The proxy variables (core `proxyFor()` reads them per hop). @default none: direct */
  proxyEnv?: Readonly<Record<string, string | undefined>>;
}

export interface RangeResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  statusMessage: string;
  /** Lowercased names. */
  headers: Record<string, string | undefined>;
  body: ResponseBody;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function requestOnce(
  url: URL,
  options: RangeRequestOptions,
  user: Record<string, string>,
): Promise<Answer> {
  const headers: Record<string, string> = {
    // FIELD.md gap 6: an encoded body has other offsets than the file; ask for the bytes as stored.
    'accept-encoding': 'identity',
  };
  // The user's fields never name the engine's own (core RESERVED_HEADERS); a User-Agent replaces
  // ranged's.
  if (!Object.keys(user).some((name) => name.toLowerCase() === 'user-agent')) {
    headers['user-agent'] = 'ranged';
  }
  Object.assign(headers, user);
  if (options.range !== undefined) {
    const { start, end } = options.range;
    headers.range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
    if (options.ifRange !== undefined) headers['if-range'] = options.ifRange;
  }
  const timeout = options.timeout;
  const choice = proxyFor(url, options.proxyEnv ?? {});
  if (choice.kind === 'invalid') {
    throw new UsageError(`Cannot use ${choice.variable}: ${choice.reason}`);
  }
  const proxy = choice.kind === 'proxy' ? choice.proxy : undefined;
  if (url.protocol === 'https:') {
    return requestHttps(url, headers, {
      signal: options.signal,
      timeout,
      tls: options.tls,
      agents: options.agents,
      proxy,
    });
  }
  if (proxy === undefined) {
    return openHttp1(url, {
      headers,
      signal: options.signal,
      timeout,
      bufferSize: options.bufferSize,
    });
  }
  return viaProxy(url, headers, proxy, options);
}

/**
 * An http request through an http:// proxy: the same reader (`openHttp1()`), connected to the
 * proxy, asking in absolute-form, with the proxy's credentials. A proxy that cannot be reached or
 * that wants other credentials (407) is said to be the proxy.
 */
async function viaProxy(
  url: URL,
  headers: Record<string, string>,
  proxy: ProxyServer,
  options: RangeRequestOptions,
): Promise<Answer> {
  const via = `the proxy ${proxy.display} (${proxy.variable})`;
  const sent =
    proxy.authorization === undefined
      ? headers
      : { ...headers, 'proxy-authorization': proxy.authorization };
  let res: Answer;
  try {
    res = await openHttp1(url, {
      headers: sent,
      signal: options.signal,
      timeout: options.timeout,
      bufferSize: options.bufferSize,
      proxy: { host: proxy.host, port: proxy.port },
    });
  } catch (error) {
    const code = networkCode(error);
    if (code === undefined || options.signal.aborted) throw error;
    throw new NetworkError(
      `Cannot download "${url.href}": cannot reach ${via}: ${networkReason((error as Error).cause)}`,
      { cause: (error as Error).cause },
    );
  }
  if (res.status === 407) {
    res.body.destroy();
    const hint =
      proxy.authorization === undefined
        ? ' (it wants credentials: http://user:pass@host:port)'
        : ' (it refused the credentials in the proxy URL)';
    throw new HttpStatusError(
      `Cannot download "${url.href}": ${via} answered 407 Proxy Authentication Required${hint}`,
      { status: 407, url: proxy.display },
    );
  }
  return res;
}

/**
 * Sends one GET and follows redirects (bounded). Resolves with the first non-redirect response;
 * the caller must consume or destroy its body. Rejects with a NetworkError for socket failures
 * (or the signal's reason when aborted) and an HttpStatusError for a redirect loop, a bad
 * Location, or (without `allowInsecureRedirect`) a redirect from https to http.
 */
export async function requestRange(
  url: string,
  options: RangeRequestOptions,
): Promise<RangeResponse> {
  const maxRedirects = options.maxRedirects;
  let current = new URL(url);
  const trusted = options.headersOrigin ?? current.origin;
  for (let hop = 0; ; hop++) {
    let res: Answer;
    const user = headersForHop(options.headers ?? {}, { trusted, hop: current.origin });
    try {
      res = await requestOnce(current, options, user);
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw networkError(current.href, error);
    }
    const status = res.status;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || location === undefined) return { url: current.href, ...res };
    res.body.destroy(); // a redirect's body is not needed
    if (hop >= maxRedirects) {
      throw new HttpStatusError(`Cannot download "${url}": more than ${maxRedirects} redirects`, {
        status,
        url: current.href,
      });
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch (error) {
      throw new HttpStatusError(
        `Cannot download "${url}": redirect to an invalid URL "${location}"`,
        { status, url: current.href },
        { cause: error },
      );
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HttpStatusError(
        `Cannot download "${url}": redirect to unsupported URL "${next.href}"`,
        { status, url: current.href },
      );
    }
    // Checked at every hop, so also when a resume or an expired target resolves `url` again.
    if (
      current.protocol === 'https:' &&
      next.protocol === 'http:' &&
      !options.allowInsecureRedirect
    ) {
      throw new HttpStatusError(
        `Cannot follow redirect from ${current.href} to ${next.href}: it drops TLS (use --allow-insecure-redirect to allow)`,
        { status, url: current.href },
      );
    }
    current = next;
  }
}
