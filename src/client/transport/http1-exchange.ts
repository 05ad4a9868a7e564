/**
 * The socket side of `openHttp1()` (see http1.ts): one request and its response over one
 * connection, as a state machine. Six named phases; every event (socket bytes, the close, read(),
 * the sink's answer, a stop or a failure) goes through `transition()`, the one place the phase
 * changes. What the bytes mean is decided by the pure HeadParser and BodyDecoder.
 */
import net from 'node:net';
import { NetworkError } from '../../errors.js';
import { BodyDecoder } from './http1-body.js';
import { HeadParser } from './http1-head.js';
import type { BodySink, Http1Options, Http1Response, ResponseBody } from './http1-types.js';
import { networkReason } from './network-error.js';

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

interface Settle<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** One request and its response over one connection: the state machine. */
export class Exchange {
  #phase: Phase = 'head';
  readonly #parser = new HeadParser();
  #decoder: BodyDecoder | undefined;
  /** Two read buffers that take turns (allocUnsafeSlow: never from Node's shared pool, so each
   * has its own memory, which `#freeBuffer()` tells apart). */
  readonly #buffers: readonly [Buffer, Buffer];
  /** The memory of the chunk the sink holds: the next read goes into the other buffer. */
  #inSink: ArrayBufferLike | undefined;
  /** A chunk read while the sink held another; the socket is paused until it is taken. */
  #queued: Buffer | undefined;
  /** Body bytes that arrived with the head (a copy), delivered first by read(). */
  #early: Buffer | undefined;
  /** The socket closed (no more bytes); the phase may still be 'body' with bytes to deliver. */
  #closed = false;
  #error: Error | undefined;
  #sink: BodySink | undefined;
  #stallTimeout: number;
  #timer: NodeJS.Timeout | undefined;
  #head: Settle<Http1Response> | undefined;
  #read: Settle<void> | undefined;
  #reading = false;
  readonly #url: URL;
  readonly #signal: AbortSignal;
  readonly #socket: net.Socket;
  readonly #onAbort = (): void => {
    const reason: unknown = this.#signal.reason;
    this.transition({
      type: 'fail',
      error: reason instanceof Error ? reason : this.#netError('aborted'),
    });
  };

  constructor(url: URL, options: Http1Options) {
    const size = options.bufferSize ?? 1024 * 1024;
    this.#buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    this.#url = url;
    this.#signal = options.signal;
    this.#stallTimeout = options.timeout;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#socket = net.connect({
      // Through a proxy, the connection goes to the proxy (the request names the origin).
      host: options.proxy?.host ?? host,
      port: options.proxy?.port ?? (url.port === '' ? 80 : Number(url.port)),
      onread: {
        // Node asks for the next read's buffer right after each callback (and resumes into it
        // later): the buffer that is free, or that frees first when both hold a chunk (the
        // socket is then paused until the chunk being delivered is written out).
        buffer: () => this.#freeBuffer(),
        callback: (n: number, buf: Uint8Array): boolean => {
          this.transition({ type: 'bytes', data: Buffer.from(buf.buffer, buf.byteOffset, n) });
          // Read on while the head is incomplete, or while the other buffer is free.
          return this.#phase === 'head' || (this.#phase === 'body' && this.#queued === undefined);
        },
      },
    });
    this.#socket.setNoDelay(true);
    this.#socket.on('error', (e) =>
      this.transition({ type: 'fail', error: this.#netError(networkReason(e), e) }),
    );
    this.#socket.on('close', () => this.transition({ type: 'eof' }));
  }

  start(request: string, head: Settle<Http1Response>): void {
    this.#head = head;
    if (this.#signal.aborted) {
      this.#onAbort();
      return;
    }
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#arm();
    this.#socket.write(request, 'latin1');
  }

  readonly body: ResponseBody = {
    read: (sink, options) => {
      if (this.#reading) return Promise.reject(new Error('Cannot read a response body twice'));
      this.#reading = true;
      return new Promise<void>((resolve, reject) => {
        if (this.#phase === 'failed' || this.#phase === 'stopped') return reject(this.#error);
        if (this.#phase === 'complete') return resolve();
        this.#read = { resolve, reject };
        this.transition({ type: 'read', sink, stallTimeout: options.stallTimeout });
      });
    },
    destroy: (error) => {
      this.transition(error === undefined ? { type: 'stop' } : { type: 'fail', error });
    },
    complete: false,
  };

  /**
   * Takes one event. Every change of phase happens inside this call (through the helpers
   * below), so the rules of the connection read from top to bottom here.
   */
  transition(event: Event): void {
    if (TERMINAL.has(this.#phase)) {
      // Only the sink can still report, and read() waited for it.
      if (event.type === 'delivered' || event.type === 'sink-failed') {
        this.#inSink = undefined;
        this.#queued = undefined;
        this.#settleRead();
      }
      return;
    }
    switch (event.type) {
      case 'bytes':
        if (this.#phase === 'head') this.#onHeadBytes(event.data);
        else if (this.#phase === 'paused') {
          // Read before the pause took hold: keep it with the early bytes.
          const early = this.#early;
          this.#early = Buffer.concat(early === undefined ? [event.data] : [early, event.data]);
        } else if (this.#inSink !== undefined) {
          // Both buffers hold a chunk: wait (no stall timer) until the sink frees one.
          clearTimeout(this.#timer);
          this.#queued = event.data;
          this.#socket.pause();
        } else {
          clearTimeout(this.#timer);
          this.#deliver(event.data);
        }
        return;
      case 'eof':
        this.#closed = true;
        if (this.#phase === 'head') {
          this.#end('failed', this.#netError('the connection closed before a response'));
        } else if (this.#phase === 'paused') {
          // read() decides, after the bytes that came with the head.
        } else if (this.#inSink !== undefined)
          clearTimeout(this.#timer); // the delivery decides
        else this.#readOn();
        return;
      case 'read': {
        this.#phase = 'body';
        this.#sink = event.sink;
        this.#stallTimeout = event.stallTimeout;
        const first = this.#early;
        this.#early = undefined;
        if (first === undefined) this.#readOn();
        else {
          this.#deliver(first);
          this.#resume();
        }
        return;
      }
      case 'delivered': {
        this.#inSink = undefined;
        const next = this.#queued;
        this.#queued = undefined;
        if (!event.more) this.#stop();
        else if (next === undefined) this.#readOn();
        else {
          this.#deliver(next);
          this.#resume(); // the freed buffer takes the next read
        }
        return;
      }
      case 'sink-failed':
        this.#inSink = undefined;
        this.#queued = undefined;
        this.#end('failed', event.error);
        return;
      case 'stop':
        this.#stop();
        return;
      case 'fail':
        this.#end('failed', event.error);
        return;
    }
  }

  #onHeadBytes(data: Buffer): void {
    const step = this.#parser.feed(data);
    if (step.kind === 'more') return;
    if (step.kind === 'error') {
      this.#end('failed', this.#netError(`malformed response: ${step.reason}`));
      return;
    }
    this.#decoder = new BodyDecoder(step.framing);
    // The read buffer is reused: keep a copy of the body bytes that came with the head.
    if (step.used < data.length) this.#early = Buffer.from(data.subarray(step.used));
    this.#phase = 'paused';
    this.#socket.pause(); // until read() is called
    clearTimeout(this.#timer);
    const settle = this.#head;
    this.#head = undefined;
    settle?.resolve({ ...step.head, body: this.body });
  }

  /** Decodes one chunk and hands its body slices to the sink; `delivered` follows. */
  #deliver(data: Buffer): void {
    const slices: Buffer[] = [];
    // The decoder's slices are views of `data`, so Buffers too.
    const step = (this.#decoder as BodyDecoder).feed(data, (s) => slices.push(s as Buffer));
    if (step.kind === 'error') {
      this.#end('failed', this.#netError(`malformed chunked body: ${step.reason}`));
      return;
    }
    this.#inSink = data.buffer;
    this.#armIfWaiting();
    this.#toSink(slices).then(
      (more) => this.transition({ type: 'delivered', more }),
      (e: unknown) =>
        this.transition({
          type: 'sink-failed',
          error: e instanceof Error ? e : new Error(String(e)),
        }),
    );
  }

  async #toSink(slices: Buffer[]): Promise<boolean> {
    for (const slice of slices) {
      if (TERMINAL.has(this.#phase)) return false;
      if (!(await (this.#sink as BodySink)(slice))) return false;
    }
    return true;
  }

  /** Nothing in the sink: end at the end of the body or of the connection, else read on. */
  #readOn(): void {
    const decoder = this.#decoder as BodyDecoder;
    if (decoder.done) {
      this.#end('complete');
      return;
    }
    if (this.#closed) {
      const reason = decoder.close();
      if (reason === undefined) this.#end('complete');
      else this.#end('failed', this.#netError(reason));
      return;
    }
    this.#arm();
    this.#socket.resume();
  }

  #resume(): void {
    if (!this.#closed && !TERMINAL.has(this.#phase)) this.#socket.resume();
  }

  /** The caller stopped: complete if every byte came anyway, else stopped. */
  #stop(): void {
    if (this.#decoder?.done === true) this.#end('complete');
    else this.#end('stopped', this.#netError('closed by the client'));
  }

  /**
   * Enters a terminal phase: closes the connection, rejects a pending head, and settles read()
   * unless the sink still holds a chunk (the caller may close its file once read() settles).
   */
  #end(to: 'complete' | 'stopped' | 'failed', reason?: Error): void {
    this.#phase = to;
    this.#error = reason;
    if (to === 'complete') (this.body as { complete: boolean }).complete = true;
    clearTimeout(this.#timer);
    this.#socket.destroy();
    this.#signal.removeEventListener('abort', this.#onAbort);
    if (reason !== undefined) this.#head?.reject(reason);
    this.#head = undefined;
    this.#settleRead();
  }

  #settleRead(): void {
    const settle = this.#read;
    if (this.#inSink !== undefined || settle === undefined || !TERMINAL.has(this.#phase)) return;
    this.#read = undefined;
    if (this.#phase === 'failed') settle.reject(this.#error as Error);
    else settle.resolve();
  }

  #freeBuffer(): Buffer {
    const taken = this.#queued === undefined ? this.#inSink : this.#queued.buffer;
    return taken === this.#buffers[0].buffer ? this.#buffers[1] : this.#buffers[0];
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const ms = this.#stallTimeout;
    this.#timer = setTimeout(() => {
      const reason =
        this.#phase === 'head' ? `no response within ${ms / 1000} s` : `no data for ${ms / 1000} s`;
      this.transition({ type: 'fail', error: this.#netError(reason) });
    }, ms);
  }

  /** Arms the stall timer only while body bytes are awaited from the network: not once the body
   * is complete or the connection closed (a slow sink is not a stalled network). */
  #armIfWaiting(): void {
    if (this.#phase === 'body' && !this.#closed && !(this.#decoder as BodyDecoder).done) {
      this.#arm();
    } else clearTimeout(this.#timer);
  }

  #netError(reason: string, cause?: unknown): NetworkError {
    return new NetworkError(
      `Cannot download "${this.#url.href}": ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }
}
