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
 * The response is framed as RFC 9112 §6.3 says: Transfer-Encoding chunked, else Content-Length,
 * else until the server closes. 1xx responses are skipped (§15.2). Every request carries
 * `Connection: close`: one request per connection keeps the framing simple, and a download opens
 * only a handful of requests.
 */
import net from 'node:net';
import { NetworkError } from '../../errors.js';

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

const MAX_HEAD = 64 * 1024;

type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'chunked' }
  | { kind: 'close' }
  | { kind: 'none' };

/** Chunked transfer coding (RFC 9112 §7.1), decoded without copying the data. */
class ChunkedDecoder {
  state: 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'trailer' | 'done' = 'size';
  size = 0;
  digits = 0;
  left = 0;
  /** Characters in the current trailer line (0 at its start). */
  line = 0;

  /** Calls `out` with each data slice of `input`; returns an error message or undefined. */
  feed(input: Buffer, out: (slice: Buffer) => void): string | undefined {
    let i = 0;
    while (i < input.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, input.length - i);
        out(input.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'dataCr';
        continue;
      }
      const c = input[i++] as number;
      switch (this.state) {
        case 'size': {
          const hex = hexValue(c);
          if (hex !== undefined) {
            if (++this.digits > 13) return 'a chunk size is too large';
            this.size = this.size * 16 + hex;
          } else if (this.digits === 0) return 'a chunk size is missing';
          else if (c === 0x3b || c === 0x20 || c === 0x09) this.state = 'ext';
          else if (c === 0x0d) this.state = 'sizeLf';
          else return 'a chunk size is malformed';
          break;
        }
        case 'ext':
          if (c === 0x0d) this.state = 'sizeLf';
          break;
        case 'sizeLf':
          if (c !== 0x0a) return 'a chunk size line does not end in CRLF';
          if (this.size === 0) {
            this.state = 'trailer';
            this.line = 0;
          } else {
            this.left = this.size;
            this.state = 'data';
          }
          this.size = 0;
          this.digits = 0;
          break;
        case 'dataCr':
          if (c !== 0x0d) return 'chunk data does not end in CRLF';
          this.state = 'dataLf';
          break;
        case 'dataLf':
          if (c !== 0x0a) return 'chunk data does not end in CRLF';
          this.state = 'size';
          break;
        case 'trailer':
          if (c === 0x0a) {
            if (this.line === 0) this.state = 'done';
            this.line = 0;
          } else if (c !== 0x0d) this.line++;
          break;
      }
    }
    return undefined;
  }
}

function hexValue(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return undefined;
}

interface Head {
  status: number;
  statusMessage: string;
  headers: Record<string, string>;
}

/** Parses a response head (status line and fields, without the final CRLF CRLF). */
function parseHead(text: string): Head | string {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] ([0-9]{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (m === null) return `the status line is ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`;
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of lines.slice(1)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] = `${headers[last]} ${line.trim()}`; // obsolete line folding (RFC 9112 §5.2)
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return `a header line is ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    last = name;
  }
  return { status: Number(m[1]), statusMessage: m[2] ?? '', headers };
}

function framingOf(head: Head): Framing | string {
  if (head.status === 204 || head.status === 304) return { kind: 'none' };
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    // §6.3: chunked must be the final coding; anything else is read until the close.
    return /(?:^|,)\s*chunked\s*$/i.test(te) ? { kind: 'chunked' } : { kind: 'close' };
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || only === undefined || !/^[0-9]+$/.test(only)) {
      return `the Content-Length is ${JSON.stringify(cl)}`;
    }
    const left = Number(only);
    if (!Number.isSafeInteger(left)) return `the Content-Length is ${cl}`;
    return left === 0 ? { kind: 'none' } : { kind: 'length', left };
  }
  return { kind: 'close' };
}

/** Sends `GET url` and resolves with the response head; the body is read with `body.read()`. */
export function openHttp1(url: URL, options: Http1Options): Promise<Http1Response> {
  const bufferSize = options.bufferSize ?? 1024 * 1024;
  const signal = options.signal;
  // allocUnsafeSlow: never from Node's shared pool, so each buffer has its own memory (`other()`
  // tells them apart by it).
  const buffers = [Buffer.allocUnsafeSlow(bufferSize), Buffer.allocUnsafeSlow(bufferSize)] as const;
  /** The memory of the chunk being delivered: the next read goes into the other buffer. */
  let busy: ArrayBufferLike | undefined;
  /** A chunk read while another was being delivered; the socket is paused until it is taken. */
  let queued: Buffer | undefined;
  const other = (memory: ArrayBufferLike | undefined): Buffer =>
    memory === buffers[0].buffer ? buffers[1] : buffers[0];
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);

  let headParts: Buffer[] = [];
  let headLength = 0;
  let framing: Framing | undefined;
  let chunked: ChunkedDecoder | undefined;
  /** Body bytes that arrived with the head (a copy), delivered first by read(). */
  let early: Buffer | undefined;
  let complete = false;
  let failure: Error | undefined;
  let sink: BodySink | undefined;
  let stallTimeout = options.timeout;
  let timer: NodeJS.Timeout | undefined;
  let settleHead: { resolve(r: Http1Response): void; reject(e: Error): void } | undefined;
  let settleBody: { resolve(): void; reject(e: Error): void } | undefined;
  let reading = false;
  let delivering = false;
  /** Stopped by the caller (sink answered false, or destroy()): read() resolves. */
  let stopped = false;
  let closed = false;

  /**
   * Settles read(), but never while the sink still holds a chunk: the caller may close the file
   * once read() settles, so a write in flight must finish first.
   */
  const settleRead = (error: Error | undefined): void => {
    if (delivering || settleBody === undefined) return;
    const settle = settleBody;
    settleBody = undefined;
    if (error === undefined || complete) settle.resolve();
    else if (stopped) settle.resolve();
    else settle.reject(error);
  };
  const fail = (error: Error): void => {
    if (failure !== undefined || complete) return;
    failure = error;
    clearTimeout(timer);
    socket.destroy();
    signal.removeEventListener('abort', onAbort);
    settleHead?.reject(error);
    settleHead = undefined;
    settleRead(error);
  };
  const netError = (reason: string, cause?: unknown): NetworkError =>
    new NetworkError(
      `Cannot download "${url.href}": ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  const finish = (): void => {
    if (complete || failure !== undefined) return;
    complete = true;
    clearTimeout(timer);
    socket.destroy();
    signal.removeEventListener('abort', onAbort);
    settleRead(undefined);
  };
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fail(
        netError(
          settleHead !== undefined
            ? `no response within ${stallTimeout / 1000} s`
            : `no data for ${stallTimeout / 1000} s`,
        ),
      );
    }, stallTimeout);
  };
  const onAbort = (): void => {
    const reason: unknown = signal.reason;
    fail(reason instanceof Error ? reason : netError('aborted'));
  };

  /** Feeds body bytes through the framing to the sink; resolves false to stop. */
  const deliver = async (data: Buffer): Promise<boolean> => {
    const f = framing as Framing;
    const slices: Buffer[] = [];
    if (f.kind === 'length') {
      const n = Math.min(f.left, data.length);
      if (n > 0) slices.push(data.subarray(0, n));
      f.left -= n;
    } else if (f.kind === 'chunked') {
      const decoder = chunked as ChunkedDecoder;
      const error = decoder.feed(data, (s) => slices.push(s));
      if (error !== undefined) {
        fail(netError(`malformed chunked body: ${error}`));
        return false;
      }
    } else if (f.kind === 'close') slices.push(data);
    for (const slice of slices) {
      if (failure !== undefined) return false;
      const more = await (sink as BodySink)(slice);
      if (!more) return false;
    }
    return true;
  };
  const ended = (): boolean =>
    framing?.kind === 'none' ||
    (framing?.kind === 'length' && framing.left === 0) ||
    (framing?.kind === 'chunked' && chunked?.state === 'done');

  /**
   * After a chunk was delivered (or when read() starts): finish at the end of the body, fail on a
   * connection closed too early, else wait for more bytes.
   */
  const readOn = (): void => {
    if (ended() || (closed && framing?.kind === 'close')) {
      finish();
    } else if (closed) {
      fail(netError('connection closed'));
    } else {
      arm();
      socket.resume();
    }
  };

  /** The body stopped early (sink answered false, or destroy()): close and resolve read(). */
  const stop = (): void => {
    if (complete || failure !== undefined) return;
    complete = ended();
    if (!complete) {
      failure = netError('closed by the client');
      stopped = true;
    }
    clearTimeout(timer);
    socket.destroy();
    signal.removeEventListener('abort', onAbort);
    settleRead(undefined);
  };
  /**
   * Takes a chunk of body bytes: delivers it at once when nothing is being delivered (and keeps
   * reading, into the other buffer), else queues it and pauses the socket. Returns whether the
   * socket may read on.
   */
  const pump = (data: Buffer): boolean => {
    clearTimeout(timer);
    if (delivering) {
      queued = data;
      socket.pause();
      return false;
    }
    start(data);
    armIfWaiting();
    return true;
  };
  /**
   * Arms the stall timer only while more body bytes are awaited from the network: not once the
   * body is complete or the connection closed (a slow sink is not a stalled network), and not
   * after a failure.
   */
  const armIfWaiting = (): void => {
    if (failure === undefined && !complete && !closed && !ended()) arm();
    else clearTimeout(timer);
  };
  /** Delivers one chunk, then the queued one (reading on), or resumes reading, or settles. */
  const start = (data: Buffer): void => {
    delivering = true;
    busy = data.buffer;
    deliver(data).then(
      (more) => {
        busy = undefined;
        const next = queued;
        queued = undefined;
        if (failure !== undefined || complete || !more || next === undefined) {
          delivering = false;
          if (failure !== undefined || complete) return settleRead(failure);
          if (!more) return stop();
          return readOn();
        }
        start(next);
        armIfWaiting();
        if (!closed && failure === undefined) socket.resume(); // the freed buffer takes the next read
      },
      (error: unknown) => {
        busy = undefined;
        queued = undefined;
        delivering = false;
        if (failure !== undefined || complete) return settleRead(failure);
        fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };

  const onHead = (data: Buffer): void => {
    headParts.push(Buffer.from(data)); // the read buffer is reused: keep a copy of the head bytes
    headLength += data.length;
    const all = headParts.length === 1 ? (headParts[0] as Buffer) : Buffer.concat(headParts);
    headParts = [all];
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (headLength > MAX_HEAD) fail(netError('the response head is larger than 64 KiB'));
      return;
    }
    const head = parseHead(all.toString('latin1', 0, end));
    if (typeof head === 'string') {
      fail(netError(`malformed response: ${head}`));
      return;
    }
    const rest = all.subarray(end + 4);
    if (head.status >= 100 && head.status < 200) {
      // RFC 9110 §15.2: informational responses precede the final one.
      headParts = [];
      headLength = 0;
      if (rest.length > 0) onHead(rest);
      return;
    }
    const f = framingOf(head);
    if (typeof f === 'string') {
      fail(netError(`malformed response: ${f}`));
      return;
    }
    framing = f;
    if (f.kind === 'chunked') chunked = new ChunkedDecoder();
    headParts = [];
    if (rest.length > 0) early = rest;
    socket.pause(); // until read() is called
    clearTimeout(timer);
    const settle = settleHead;
    settleHead = undefined;
    settle?.resolve({
      status: head.status,
      statusMessage: head.statusMessage,
      headers: head.headers,
      body,
    });
  };

  const socket = net.connect({
    host,
    port,
    onread: {
      // Node asks for the next read's buffer right after each callback (and resumes into it
      // later): the buffer that is free, or that frees first when both hold a chunk (the socket
      // is then paused until the chunk being delivered is written out).
      buffer: () => other(queued === undefined ? busy : queued.buffer),
      callback: (n: number, buf: Uint8Array): boolean => {
        if (failure !== undefined || complete) return false;
        const data = Buffer.from(buf.buffer, buf.byteOffset, n);
        if (framing === undefined) {
          onHead(data);
          return framing === undefined && failure === undefined;
        }
        return pump(data);
      },
    },
  });
  socket.setNoDelay(true);
  socket.on('error', (error) => fail(netError(networkReason(error), error)));
  socket.on('close', () => {
    closed = true;
    if (delivering) clearTimeout(timer); // no more bytes can come; the delivery decides
    if (complete || failure !== undefined || delivering) return;
    if (framing === undefined) return fail(netError('the connection closed before a response'));
    if (!reading) return; // read() decides, after the bytes that came with the head
    if (ended() || framing.kind === 'close') return finish();
    fail(netError('connection closed'));
  });

  const body: ResponseBody = {
    read(s, readOptions) {
      if (reading) return Promise.reject(new Error('Cannot read a response body twice'));
      reading = true;
      sink = s;
      stallTimeout = readOptions.stallTimeout;
      return new Promise<void>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        if (complete) return resolve();
        settleBody = { resolve, reject };
        const first = early;
        early = undefined;
        if (first === undefined) return readOn();
        if (pump(first) && !closed) socket.resume();
      });
    },
    destroy(error) {
      if (error !== undefined) fail(error);
      else stop();
    },
    get complete() {
      return complete;
    },
  };

  return new Promise<Http1Response>((resolve, reject) => {
    settleHead = { resolve, reject };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
    const target = `${url.pathname}${url.search}`;
    let request = `GET ${target === '' ? '/' : target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n`;
    for (const [name, value] of Object.entries(options.headers)) request += `${name}: ${value}\r\n`;
    socket.write(`${request}\r\n`, 'latin1');
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
