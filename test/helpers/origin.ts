/**
 * A fault-injecting origin for the download client's tests: one file served over node:http(s) on
 * 127.0.0.1 port 0, with switches for the ways real servers fail (dropped connections, throttling,
 * 503s, no range support, content replaced, weak or missing validators, lying Content-Range, a cap
 * on connections). It counts the body bytes it sends, so tests can bound what is fetched again.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRange } from '../../src/core/range.js';

/** Fixture bytes: byte i depends on i (and on `seed`), so a misplaced segment shows up. */
export function fixture(size: number, seed = 0): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + (i >> 8) + seed * 31) & 0xff;
  return out;
}

export interface OriginOptions {
  /** Path the file is served at. @default '/file.bin' */
  path: string;
  /** Honour Range (206); false answers every request 200 with the whole file. @default true */
  ranges: boolean;
  /** Send `Accept-Ranges: bytes`. @default same as ranges */
  acceptRanges?: boolean;
  /** ETag kind. @default 'strong' */
  etag: 'strong' | 'weak' | 'none';
  /** Send Last-Modified. @default true */
  lastModified: boolean;
  /** Throttle each response to this many body bytes per second. */
  bytesPerSecond?: number | undefined;
  /** Destroy the connection after this many body bytes of a response. */
  dropAfter?: number | undefined;
  /** How many responses drop (the first N). @default Infinity */
  dropResponses: number;
  /** Stop sending (without closing) after this many body bytes of the first `hangResponses`. */
  hangAfter?: number | undefined;
  /** @default 1 */
  hangResponses: number;
  /** The first `requests` 206 responses are throttled to `bytesPerSecond` (one slow path). */
  slowFirst?: { requests: number; bytesPerSecond: number } | undefined;
  /** Responses whose range starts exactly at `at` are throttled to `bytesPerSecond`. */
  slowStart?: { at: number; bytesPerSecond: number } | undefined;
  /** Answer the first N requests with `failStatus`. @default 0 */
  failFirst: number;
  /** @default 503 */
  failStatus: number;
  /** Retry-After sent with `failStatus`. */
  retryAfter?: string | undefined;
  /** More concurrent responses than this get `refuseStatus`. */
  maxConnections?: number | undefined;
  /** @default 403 */
  refuseStatus: number;
  /** A 206 for a range starting after 0 says (and sends) one byte later than asked. */
  lieContentRange: boolean;
  /** How many 206s lie (the first N). @default Infinity */
  lieResponses: number;
  /** A 206 for a range starting after 0 starts (and sends) this many bytes earlier than asked,
   * as a server rounding ranges down to a block would. */
  earlyStart?: number | undefined;
  /** Treat every If-Range as matching (a server that ignores it). */
  ignoreIfRange: boolean;
  /** Serve `Content-Encoding: gzip` (without compressing: only the header matters). */
  fakeGzip: boolean;
  /** `/signed` redirects to a new "signed" URL `/s/N/<path>` each time; a signed URL answers
   * `expiredStatus` once it has answered this many requests. @default Infinity */
  signedRequests: number;
  /** @default 403 */
  expiredStatus: number;
  /** Called each time `/signed` is resolved, with how many times it has been (1, 2, …), before
   * the redirect is sent: a test can change the file behind the next target. */
  onSigned?: ((resolved: number) => void) | undefined;
  /** Serve https with this key and certificate (see `helpers/tls.ts`) instead of http. */
  tls?: { key: string; cert: string } | undefined;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  ifRange: string | undefined;
  acceptEncoding: string | undefined;
  /** Every request header field (lower-case names). */
  headers: http.IncomingHttpHeaders;
  status: number;
  /** Content-Range of the response, if any. */
  contentRange: string | undefined;
  /** Body bytes written for this request. */
  sent: number;
  /** Whether the whole body was written. */
  finished: boolean;
}

export interface Origin {
  /** URL of the file. */
  url: string;
  /** `http://127.0.0.1:PORT` (`https://` with `tls`). */
  base: string;
  options: OriginOptions;
  /** Body bytes written to sockets so far. */
  served: number;
  /** Responses in progress now (their connections are open). */
  readonly open: number;
  requests: RecordedRequest[];
  /** Replaces the file with new bytes: a new ETag and Last-Modified. */
  replace(body: Buffer): void;
  close(): Promise<void>;
}

export async function startOrigin(
  body: Buffer,
  options: Partial<OriginOptions> = {},
): Promise<Origin> {
  let current = body;
  let version = 1;
  let active = 0;
  let failed = 0;
  let dropped = 0;
  let hung = 0;
  let slowed = 0;
  let lied = 0;
  /** Requests answered per signed URL. */
  const signedUses: number[] = [];
  const opts: OriginOptions = {
    path: '/file.bin',
    ranges: true,
    etag: 'strong',
    lastModified: true,
    dropResponses: Number.POSITIVE_INFINITY,
    hangResponses: 1,
    failFirst: 0,
    failStatus: 503,
    refuseStatus: 403,
    lieContentRange: false,
    lieResponses: Number.POSITIVE_INFINITY,
    ignoreIfRange: false,
    fakeGzip: false,
    signedRequests: Number.POSITIVE_INFINITY,
    expiredStatus: 403,
    ...options,
  };
  const etag = (): string | undefined => {
    if (opts.etag === 'none') return undefined;
    const tag = `"v${version}-${current.length}"`;
    return opts.etag === 'weak' ? `W/${tag}` : tag;
  };
  const lastModified = (): string => new Date(Date.UTC(2024, 0, 1, 0, 0, version)).toUTCString();

  const origin: Origin = {
    url: '',
    base: '',
    options: opts,
    served: 0,
    get open() {
      return active;
    },
    requests: [],
    replace(next) {
      current = next;
      version++;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };

  async function send(
    res: http.ServerResponse,
    data: Buffer,
    start: number,
    record: RecordedRequest,
  ): Promise<void> {
    const hang =
      opts.hangAfter !== undefined && hung < opts.hangResponses ? opts.hangAfter : undefined;
    if (hang !== undefined) hung++;
    let slow = opts.slowStart?.at === start ? opts.slowStart.bytesPerSecond : undefined;
    if (record.status === 206 && opts.slowFirst !== undefined && slowed < opts.slowFirst.requests) {
      slowed++;
      slow = opts.slowFirst.bytesPerSecond;
    }
    const drop =
      opts.dropAfter !== undefined && dropped < opts.dropResponses ? opts.dropAfter : undefined;
    if (drop !== undefined) dropped++;
    let offset = 0;
    while (offset < data.length) {
      if (res.destroyed) return;
      if (hang !== undefined && offset >= hang) {
        await once(res, 'close');
        return;
      }
      let n = Math.min(slow === undefined ? 16 * 1024 : 4096, data.length - offset);
      if (hang !== undefined) n = Math.min(n, Math.max(1, hang - offset));
      if (drop !== undefined && offset + n >= drop) {
        n = drop - offset;
        if (n > 0) {
          // Let the bytes leave (handed to the kernel), then cut the connection without a proper end.
          await new Promise((resolve) => res.write(data.subarray(offset, offset + n), resolve));
          origin.served += n;
          record.sent += n;
        }
        res.socket?.destroy();
        return;
      }
      const ok = res.write(data.subarray(offset, offset + n));
      origin.served += n;
      record.sent += n;
      offset += n;
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      const bytesPerSecond = slow ?? opts.bytesPerSecond; // read per chunk: tests change it
      if (bytesPerSecond !== undefined) await sleep(Math.ceil((n * 1000) / bytesPerSecond));
    }
    res.end();
    record.finished = true;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      ifRange: header(req.headers['if-range']),
      acceptEncoding: req.headers['accept-encoding'],
      headers: req.headers,
      status: 0,
      contentRange: undefined,
      sent: 0,
      finished: false,
    };
    origin.requests.push(record);
    const finish = (status: number, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, headers);
      res.end();
    };
    const redirect = /^\/redirect\/(\d+)$/.exec(req.url ?? '');
    if (redirect !== null) {
      const n = Number(redirect[1]);
      finish(302, { location: n <= 1 ? opts.path : `/redirect/${n - 1}` });
      return;
    }
    if (req.url === '/signed') {
      signedUses.push(0);
      opts.onSigned?.(signedUses.length);
      finish(302, { location: `/s/${signedUses.length - 1}${opts.path}` });
      return;
    }
    const signed = /^\/s\/(\d+)(\/.*)$/.exec(req.url ?? '');
    if (signed !== null) {
      const token = Number(signed[1]);
      const uses = signedUses[token];
      if (uses === undefined || signed[2] !== opts.path) {
        finish(404);
        return;
      }
      signedUses[token] = uses + 1;
      if (uses >= opts.signedRequests) {
        finish(opts.expiredStatus);
        return;
      }
    } else if (req.url !== opts.path) {
      finish(404);
      return;
    }
    if (failed < opts.failFirst) {
      failed++;
      finish(
        opts.failStatus,
        opts.retryAfter === undefined ? {} : { 'retry-after': opts.retryAfter },
      );
      return;
    }
    if (opts.maxConnections !== undefined && active >= opts.maxConnections) {
      finish(opts.refuseStatus);
      return;
    }
    active++;
    res.once('close', () => active--);
    const data = current;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    const tag = etag();
    if (tag !== undefined) headers.etag = tag;
    if (opts.lastModified) headers['last-modified'] = lastModified();
    if (opts.acceptRanges ?? opts.ranges) headers['accept-ranges'] = 'bytes';
    if (opts.fakeGzip) headers['content-encoding'] = 'gzip';

    let range: { start: number; end: number } | undefined;
    const ifRange = header(req.headers['if-range']);
    const ifRangeOk =
      ifRange === undefined ||
      opts.ignoreIfRange ||
      (ifRange.startsWith('"')
        ? tag !== undefined && !tag.startsWith('W/') && ifRange === tag
        : ifRange === lastModified());
    if (opts.ranges && ifRangeOk) {
      const parsed = parseRange(req.headers.range, data.length);
      if (parsed.kind === 'unsatisfiable') {
        finish(416, { ...headers, 'content-range': `bytes */${data.length}` });
        return;
      }
      if (parsed.kind === 'ranges' && parsed.ranges[0] !== undefined) range = parsed.ranges[0];
    }
    if (range === undefined) {
      record.status = 200;
      res.writeHead(200, { ...headers, 'content-length': String(data.length) });
      await send(res, data, 0, record);
      return;
    }
    let { start, end } = range;
    if (opts.lieContentRange && start > 0 && lied < opts.lieResponses) {
      lied++;
      start += 1;
      end = Math.max(end, start);
    }
    if (opts.earlyStart !== undefined && start > 0) start = Math.max(0, start - opts.earlyStart);
    record.status = 206;
    record.contentRange = `bytes ${start}-${end}/${data.length}`;
    res.writeHead(206, {
      ...headers,
      'content-range': record.contentRange,
      'content-length': String(end - start + 1),
    });
    await send(res, data.subarray(start, end + 1), start, record);
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const server =
    opts.tls === undefined ? http.createServer(listener) : https.createServer(opts.tls, listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  origin.base = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  origin.url = `${origin.base}${opts.path}`;
  return origin;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
