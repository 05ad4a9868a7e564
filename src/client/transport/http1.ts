/**
 * `openHttp1()`: one HTTP/1.1 GET over a plain TCP socket whose bytes are read into two reused
 * buffers (`net.connect({ onread })`), so a download allocates nothing per chunk.
 *
 * Why not node:http: its parser hands out a fresh 64 KiB ArrayBuffer for every socket read. V8
 * frees them only when external memory has grown by 64 MiB since the last full GC, so a 1 GiB
 * download peaked at ~100 MiB RSS, and the stream machinery capped one connection at ~430 MB/s on
 * loopback (curl: ~790). Two buffers take turns: while the caller writes out one chunk, the next
 * is read into the other buffer; a third chunk waits in the socket (it is paused) until the write
 * finishes. Backpressure by construction, with the socket read and the file write overlapping
 * (they run on different threads).
 *
 * This file is the socket: a small state machine (`Phase`, one `transition()`) that moves bytes
 * between the socket, the two buffers and the sink. What the bytes mean is decided by pure
 * modules beside it, tested without sockets and against Node's own parser (llhttp):
 * `http1-head.ts` reads the status line, the fields and the framing (RFC 9112 §4-§6.3; 1xx
 * responses skipped, RFC 9110 §15.2), `http1-body.ts` decodes Content-Length, chunked (§7.1) and
 * read-until-close bodies, and `http1-request.ts` writes the request and refuses a field that
 * would break it. Every request carries `Connection: close`: one request per connection keeps the
 * framing simple, and a download opens only a handful of requests.
 */
import net from 'node:net';
import { NetworkError } from '../../errors.js';
import { BodyDecoder } from './http1-body.js';
import { HeadParser } from './http1-head.js';
import { formatRequest } from './http1-request.js';

/** The body of a response, read into a reused buffer. */
export interface ResponseBody {
  /**
   * Delivers the body to `sink` in order, one chunk at a time. A chunk is valid only until
   * `sink` returns (or until the promise it returns settles): its memory is then reused. One more
   * chunk is read meanwhile, then the socket waits.
   * Resolves at the end of the body, or when `sink` answers false (the connection is then
   * closed); rejects with a NetworkError on a failure, a stall or a malformed body, and with the
   * signal's reason on an abort. Call at most once.
   */
  read(sink: BodySink, options: { stallTimeout: number }): Promise<void>;
  /** Closes the connection (idempotent); a pending `read()` rejects with `error`, if given. */
  destroy(error?: Error): void;
  /** Whether every byte of the body arrived. */
  readonly complete: boolean;
}

/** Receives body bytes; false stops reading. */
export type BodySink = (chunk: Buffer) => boolean | Promise<boolean>;

export interface Http1Response {
  status: number;
  statusMessage: string;
  /** Lowercased names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  body: ResponseBody;
}

export interface Http1Options {
  /** Request header fields (names as given). */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** No response head within this many ms fails the request. */
  timeout: number;
  /** Size of each of the two reused read buffers: fewer, larger writes (-c 1 of 1 GiB from
   * loopback: 4,096 writes at 256 KiB, 1,026 at 1 MiB, ~15% less wall time). @default 1 MiB */
  bufferSize?: number;
}

/** Where a connection is. Each event moves it along in `transition()`, nowhere else. */
type Phase =
  /** The request is sent; the response head is being read. */
  | 'head'
  /** The head was handed out; the socket is paused until `read()` (body bytes that came with the
   * head are kept). */
  | 'paused'
  /** `read()` was called: bytes go through the decoder to the sink. */
  | 'body'
  /** Every body byte reached the sink. */
  | 'complete'
  /** The caller stopped early (the sink answered false, or `destroy()`): `read()` resolves. */
  | 'stopped'
  /** A failure: the head or `read()` rejects with it. */
  | 'failed';

type Event =
  /** The socket read `data` into one of the two read buffers. */
  | { type: 'bytes'; data: Buffer }
  /** The socket closed: no more bytes will come. */
  | { type: 'eof' }
  | { type: 'read'; sink: BodySink; stallTimeout: number }
  /** The sink took every slice of the chunk it was given; false asks to stop. */
  | { type: 'delivered'; more: boolean }
  /** The sink threw or rejected. */
  | { type: 'sink-failed'; error: Error }
  /** `destroy()` without an error. */
  | { type: 'stop' }
  /** A socket error, a stall, an abort, `destroy(error)`, a malformed response. */
  | { type: 'fail'; error: Error };

const TERMINAL: ReadonlySet<Phase> = new Set(['complete', 'stopped', 'failed']);

/** Sends `GET url` and resolves with the response head; the body is read with `body.read()`. */
export function openHttp1(url: URL, options: Http1Options): Promise<Http1Response> {
  let request: string;
  try {
    request = formatRequest(url, options.headers); // before anything is sent
  } catch (error) {
    return Promise.reject(error);
  }
  const bufferSize = options.bufferSize ?? 1024 * 1024;
  const signal = options.signal;
  // allocUnsafeSlow: never from Node's shared pool, so each buffer has its own memory (`other()`
  // tells them apart by it).
  const buffers = [Buffer.allocUnsafeSlow(bufferSize), Buffer.allocUnsafeSlow(bufferSize)] as const;
  const other = (memory: ArrayBufferLike | undefined): Buffer =>
    memory === buffers[0].buffer ? buffers[1] : buffers[0];
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);

  let phase: Phase = 'head';
  const parser = new HeadParser();
  let decoder: BodyDecoder | undefined;
  /** The memory of the chunk the sink holds: the next read goes into the other buffer. */
  let inSink: ArrayBufferLike | undefined;
  /** A chunk read while the sink held another; the socket is paused until it is taken. */
  let queued: Buffer | undefined;
  /** Body bytes that arrived with the head (a copy), delivered first by read(). */
  let early: Buffer | undefined;
  /** The socket closed (no more bytes); the phase may still be 'body' with bytes to deliver. */
  let closed = false;
  let error: Error | undefined;
  let sink: BodySink | undefined;
  let stallTimeout = options.timeout;
  let timer: NodeJS.Timeout | undefined;
  let settleHead: { resolve(r: Http1Response): void; reject(e: Error): void } | undefined;
  let settleBody: { resolve(): void; reject(e: Error): void } | undefined;

  const netError = (reason: string, cause?: unknown): NetworkError =>
    new NetworkError(
      `Cannot download "${url.href}": ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const reason =
        phase === 'head'
          ? `no response within ${stallTimeout / 1000} s`
          : `no data for ${stallTimeout / 1000} s`;
      transition({ type: 'fail', error: netError(reason) });
    }, stallTimeout);
  };
  /** Arms the stall timer only while body bytes are awaited from the network: not once the body
   * is complete or the connection closed (a slow sink is not a stalled network). */
  const armIfWaiting = (): void => {
    if (phase === 'body' && !closed && !(decoder as BodyDecoder).done) arm();
    else clearTimeout(timer);
  };

  /**
   * Enters a terminal phase: closes the connection, rejects a pending head, and settles read()
   * unless the sink still holds a chunk (the caller may close its file once read() settles).
   */
  const end = (to: 'complete' | 'stopped' | 'failed', reason?: Error): void => {
    phase = to;
    error = reason;
    clearTimeout(timer);
    socket.destroy();
    signal.removeEventListener('abort', onAbort);
    if (reason !== undefined) settleHead?.reject(reason);
    settleHead = undefined;
    settleRead();
  };
  const settleRead = (): void => {
    if (inSink !== undefined || settleBody === undefined || !TERMINAL.has(phase)) return;
    const settle = settleBody;
    settleBody = undefined;
    if (phase === 'failed') settle.reject(error as Error);
    else settle.resolve();
  };

  /** Decodes one chunk and hands its body slices to the sink; `delivered` follows. */
  const deliver = (data: Buffer): void => {
    const slices: Buffer[] = [];
    // The decoder's slices are views of `data`, so Buffers too.
    const step = (decoder as BodyDecoder).feed(data, (s) => slices.push(s as Buffer));
    if (step.kind === 'error') {
      end('failed', netError(`malformed chunked body: ${step.reason}`));
      return;
    }
    inSink = data.buffer;
    armIfWaiting();
    toSink(slices).then(
      (more) => transition({ type: 'delivered', more }),
      (e: unknown) =>
        transition({ type: 'sink-failed', error: e instanceof Error ? e : new Error(String(e)) }),
    );
  };
  const toSink = async (slices: Buffer[]): Promise<boolean> => {
    for (const slice of slices) {
      if (TERMINAL.has(phase)) return false;
      if (!(await (sink as BodySink)(slice))) return false;
    }
    return true;
  };
  /** Nothing in the sink: end at the end of the body or of the connection, else read on. */
  const readOn = (): void => {
    const d = decoder as BodyDecoder;
    if (d.done) {
      end('complete');
      return;
    }
    if (closed) {
      const reason = d.close();
      if (reason === undefined) end('complete');
      else end('failed', netError(reason));
      return;
    }
    arm();
    socket.resume();
  };

  /**
   * Takes one event. Every change of phase happens inside this call (through the helpers above
   * and below), so the rules of the connection read from top to bottom here.
   */
  const transition = (event: Event): void => {
    if (TERMINAL.has(phase)) {
      // Only the sink can still report, and read() waited for it.
      if (event.type === 'delivered' || event.type === 'sink-failed') {
        inSink = undefined;
        queued = undefined;
        settleRead();
      }
      return;
    }
    switch (event.type) {
      case 'bytes':
        if (phase === 'head') onHeadBytes(event.data);
        else if (phase === 'paused') {
          // Read before the pause took hold: keep it with the early bytes.
          early = Buffer.concat(early === undefined ? [event.data] : [early, event.data]);
        } else if (inSink !== undefined) {
          // Both buffers hold a chunk: wait (no stall timer) until the sink frees one.
          clearTimeout(timer);
          queued = event.data;
          socket.pause();
        } else {
          clearTimeout(timer);
          deliver(event.data);
        }
        return;
      case 'eof':
        closed = true;
        if (phase === 'head') end('failed', netError('the connection closed before a response'));
        else if (phase === 'paused') {
          // read() decides, after the bytes that came with the head.
        } else if (inSink !== undefined)
          clearTimeout(timer); // the delivery decides
        else readOn();
        return;
      case 'read': {
        phase = 'body';
        sink = event.sink;
        stallTimeout = event.stallTimeout;
        const first = early;
        early = undefined;
        if (first === undefined) readOn();
        else {
          deliver(first);
          if (!closed && !TERMINAL.has(phase)) socket.resume();
        }
        return;
      }
      case 'delivered': {
        inSink = undefined;
        const next = queued;
        queued = undefined;
        if (!event.more) stop();
        else if (next === undefined) readOn();
        else {
          deliver(next);
          // The freed buffer takes the next read.
          if (!closed && !TERMINAL.has(phase)) socket.resume();
        }
        return;
      }
      case 'sink-failed':
        inSink = undefined;
        queued = undefined;
        end('failed', event.error);
        return;
      case 'stop':
        stop();
        return;
      case 'fail':
        end('failed', event.error);
        return;
    }
  };
  /** The caller stopped: complete if every byte came anyway, else stopped. */
  const stop = (): void => {
    if (decoder?.done === true) end('complete');
    else end('stopped', netError('closed by the client'));
  };
  const onHeadBytes = (data: Buffer): void => {
    const step = parser.feed(data);
    if (step.kind === 'more') return;
    if (step.kind === 'error') {
      end('failed', netError(`malformed response: ${step.reason}`));
      return;
    }
    decoder = new BodyDecoder(step.framing);
    // The read buffer is reused: keep a copy of the body bytes that came with the head.
    if (step.used < data.length) early = Buffer.from(data.subarray(step.used));
    phase = 'paused';
    socket.pause(); // until read() is called
    clearTimeout(timer);
    const settle = settleHead;
    settleHead = undefined;
    settle?.resolve({ ...step.head, body });
  };
  const onAbort = (): void => {
    const reason: unknown = signal.reason;
    transition({ type: 'fail', error: reason instanceof Error ? reason : netError('aborted') });
  };

  const socket = net.connect({
    host,
    port,
    onread: {
      // Node asks for the next read's buffer right after each callback (and resumes into it
      // later): the buffer that is free, or that frees first when both hold a chunk (the socket
      // is then paused until the chunk being delivered is written out).
      buffer: () => other(queued === undefined ? inSink : queued.buffer),
      callback: (n: number, buf: Uint8Array): boolean => {
        transition({ type: 'bytes', data: Buffer.from(buf.buffer, buf.byteOffset, n) });
        // Read on while the head is incomplete, or while the other buffer is free.
        return phase === 'head' || (phase === 'body' && queued === undefined);
      },
    },
  });
  socket.setNoDelay(true);
  socket.on('error', (e) => transition({ type: 'fail', error: netError(networkReason(e), e) }));
  socket.on('close', () => transition({ type: 'eof' }));

  let reading = false;
  const body: ResponseBody = {
    read(s, readOptions) {
      if (reading) return Promise.reject(new Error('Cannot read a response body twice'));
      reading = true;
      return new Promise<void>((resolve, reject) => {
        if (phase === 'failed' || phase === 'stopped') return reject(error);
        if (phase === 'complete') return resolve();
        settleBody = { resolve, reject };
        transition({ type: 'read', sink: s, stallTimeout: readOptions.stallTimeout });
      });
    },
    destroy(e) {
      transition(e === undefined ? { type: 'stop' } : { type: 'fail', error: e });
    },
    get complete() {
      return phase === 'complete';
    },
  };

  return new Promise<Http1Response>((resolve, reject) => {
    settleHead = { resolve, reject };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
    socket.write(request, 'latin1');
  });
}

/** A short reason for a socket failure: 'connection refused' for ECONNREFUSED, else the message. */
export function networkReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : (REASONS[code] ?? message);
}

const REASONS: Record<string, string> = {
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
