/**
 * One download request: sends `Accept-Encoding: identity`, an optional Range and If-Range, follows
 * redirects, and turns socket failures into NetworkErrors. `http:` goes over `openHttp1()` (one
 * reused read buffer per connection); `https:` over node:https. The caller checks the response
 * (core/resume.ts) and reads the body (`body.read()`), so nothing here decides.
 */
import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import { headersForHop } from '../../core/request-headers.js';
import { HttpStatusError, NetworkError } from '../../errors.js';
import { type BodySink, networkReason, openHttp1, type ResponseBody } from './http1.js';

export type { BodySink, ResponseBody } from './http1.js';

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

/** A NetworkError for a socket failure, with the errno code kept in `cause`. */
export function networkError(url: string, error: unknown): NetworkError {
  if (error instanceof NetworkError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint = isCertificateError(code)
    ? ' (the certificate is not trusted: --ca FILE trusts a PEM bundle, --insecure skips the check)'
    : '';
  return new NetworkError(`Cannot download "${url}": ${networkReason(error)}${hint}`, {
    cause: error,
  });
}

/** OpenSSL's verification failures (and Node's host name check): retrying cannot help. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Whether an errno-style code is a failed certificate check. */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && CERTIFICATE_ERRORS.has(code);
}

/** The errno code behind a NetworkError, if any (ECONNREFUSED, ENOTFOUND…). */
export function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

interface Answer {
  status: number;
  statusMessage: string;
  headers: Record<string, string | undefined>;
  body: ResponseBody;
}

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
  if (url.protocol === 'http:') {
    return openHttp1(url, {
      headers,
      signal: options.signal,
      timeout,
      bufferSize: options.bufferSize,
    });
  }
  return requestHttps(url, headers, timeout, options);
}

/** node:https is loaded only for an https URL: it costs ~4 MiB of memory that http never needs. */
async function requestHttps(
  url: URL,
  headers: Record<string, string>,
  timeout: number,
  options: RangeRequestOptions,
): Promise<Answer> {
  const { Agent, request } = await import('node:https');
  const tls = {
    rejectUnauthorized: options.tls?.insecure !== true,
    ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
  };
  if (options.agents !== undefined) options.agents.https ??= new Agent({ keepAlive: true, ...tls });
  const agent = options.agents?.https;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers,
      signal: options.signal,
      ...(agent === undefined ? tls : { agent }),
    });
    const timer = setTimeout(() => {
      req.destroy(
        new NetworkError(`Cannot download "${url.href}": no response within ${timeout / 1000} s`),
      );
    }, timeout);
    req.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      const flat: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      resolve({
        status: res.statusCode ?? 0,
        statusMessage: res.statusMessage ?? '',
        headers: flat,
        body: streamBody(res, url.href),
      });
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** A ResponseBody over a node:http(s) IncomingMessage (https only). */
function streamBody(res: IncomingMessage, href: string): ResponseBody {
  return {
    async read(sink: BodySink, options: { stallTimeout: number }): Promise<void> {
      const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      try {
        for (;;) {
          // The stall timer runs only while waiting for the network, not while the sink writes.
          const timer = setTimeout(() => {
            res.destroy(
              new NetworkError(
                `Cannot download "${href}": no data for ${options.stallTimeout / 1000} s`,
              ),
            );
          }, options.stallTimeout);
          let step: IteratorResult<Buffer>;
          try {
            step = await it.next();
          } catch (error) {
            throw networkError(href, error);
          } finally {
            clearTimeout(timer);
          }
          if (step.done === true) return;
          if (!(await sink(step.value))) return;
        }
      } finally {
        if (!res.complete) res.destroy();
      }
    },
    destroy(error?: Error): void {
      res.destroy(error);
    },
    get complete() {
      return res.complete;
    },
  };
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
