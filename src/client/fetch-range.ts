/**
 * One download request over node:http(s): sends `Accept-Encoding: identity`, an optional Range and
 * If-Range, follows redirects, and turns socket failures into NetworkErrors. The caller checks the
 * response (core/resume.ts) and reads the body (`readBody()`), so nothing here decides.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { HttpStatusError, NetworkError } from '../errors.js';

export interface RangeRequestOptions {
  /** Bytes to ask for: `bytes=start-` when `end` is undefined, else `bytes=start-(end-1)`. */
  range?: { start: number; end: number | undefined } | undefined;
  /** If-Range value (a strong ETag or an HTTP-date). */
  ifRange?: string | undefined;
  /** Aborts the request and its body. */
  signal: AbortSignal;
  /** Redirects followed before giving up. @default 10 */
  maxRedirects?: number;
  /** No response headers within this many ms is a failure. @default 30_000 */
  timeout?: number;
  /** Agents reused across requests (keep-alive). */
  agents?: { http: http.Agent; https: https.Agent };
}

export interface RangeResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
};

/** A NetworkError for a socket failure, with the errno code kept in `cause`. */
export function networkError(url: string, error: unknown): NetworkError {
  if (error instanceof NetworkError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    (code !== undefined ? NETWORK_REASONS[code] : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new NetworkError(`Cannot download "${url}": ${reason}`, { cause: error });
}

/** The errno code behind a NetworkError, if any (ECONNREFUSED, ENOTFOUND…). */
export function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function requestOnce(url: URL, options: RangeRequestOptions): Promise<IncomingMessage> {
  const headers: Record<string, string> = {
    // FIELD.md gap 6: an encoded body has other offsets than the file; ask for the bytes as stored.
    'accept-encoding': 'identity',
    'user-agent': 'ranged',
  };
  if (options.range !== undefined) {
    const { start, end } = options.range;
    headers.range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
    if (options.ifRange !== undefined) headers['if-range'] = options.ifRange;
  }
  const isHttps = url.protocol === 'https:';
  const agent = isHttps ? options.agents?.https : options.agents?.http;
  const request = isHttps ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers,
      signal: options.signal,
      ...(agent === undefined ? {} : { agent }),
    });
    const timeout = options.timeout ?? 30_000;
    const timer = setTimeout(() => {
      req.destroy(
        new NetworkError(`Cannot download "${url.href}": no response within ${timeout / 1000} s`),
      );
    }, timeout);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/**
 * Sends one GET and follows redirects (bounded). Resolves with the first non-redirect response;
 * the caller must consume or destroy its body. Rejects with a NetworkError for socket failures
 * (or the signal's reason when aborted) and an HttpStatusError for a redirect loop.
 */
export async function requestRange(
  url: string,
  options: RangeRequestOptions,
): Promise<RangeResponse> {
  const maxRedirects = options.maxRedirects ?? 10;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    let res: IncomingMessage;
    try {
      res = await requestOnce(current, options);
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw networkError(current.href, error);
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || location === undefined) {
      return { url: current.href, status, headers: res.headers, body: res };
    }
    res.resume(); // discard the redirect's body so the socket can be reused
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
    current = next;
  }
}

/**
 * Reads a response body chunk by chunk; each `next()` fails with a NetworkError when no byte
 * arrives for `stallTimeout` ms, so a silent connection is retried rather than waited on forever.
 * The timer runs only while waiting for the network, not while the caller writes.
 */
export async function* readBody(
  res: RangeResponse,
  options: { stallTimeout: number },
): AsyncGenerator<Buffer> {
  const it = res.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const timer = setTimeout(() => {
        res.body.destroy(
          new NetworkError(
            `Cannot download "${res.url}": no data for ${options.stallTimeout / 1000} s`,
          ),
        );
      }, options.stallTimeout);
      let step: IteratorResult<Buffer>;
      try {
        step = await it.next();
      } finally {
        clearTimeout(timer);
      }
      if (step.done === true) return;
      yield step.value;
    }
  } finally {
    // Stop the socket if the caller stopped early (segment shortened, pause, error).
    if (!res.body.complete) res.body.destroy();
  }
}
