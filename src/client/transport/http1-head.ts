/**
 * The head of an HTTP/1.1 response, read incrementally from the bytes of a connection: status
 * line (RFC 9112 §4), field lines (§5), informational responses skipped (RFC 9110 §15.2), and the
 * framing of the body that follows (RFC 9112 §6.3). Pure: bytes in, values or reasons out.
 */
import { LineReader, latin1, parseFieldLine } from './http1-fields.js';

export interface ResponseHead {
  status: number;
  /** The reason phrase, as sent (RFC 9112 §4: a client should ignore it). */
  statusMessage: string;
  /** Lowercased names; repeated fields joined with `, ` (RFC 9110 §5.3). */
  headers: Record<string, string>;
}

/** How the body of a response ends (RFC 9112 §6.3). */
export type Framing =
  /** No body: 1xx, 204 and 304 responses (item 1). */
  | { kind: 'none' }
  /** Exactly `length` bytes (item 6). */
  | { kind: 'length'; length: number }
  /** The chunked transfer coding (item 4, RFC 9112 §7.1). */
  | { kind: 'chunked' }
  /** Until the server closes the connection (items 4 and 8). */
  | { kind: 'close' };

export type HeadStep =
  /** The input ends inside a head; feed more. */
  | { kind: 'more' }
  | { kind: 'error'; reason: string }
  /** The final head; the body starts at `used` in the last input. */
  | { kind: 'head'; head: ResponseHead; framing: Framing; used: number };

/** The default bound on one response head, status line and fields. */
export const MAX_HEAD = 64 * 1024;

type LineTaken = { kind: 'next' } | { kind: 'end' } | { kind: 'error'; reason: string };
const NEXT: LineTaken = { kind: 'next' };
const END: LineTaken = { kind: 'end' };
const malformed = (reason: string): LineTaken => ({ kind: 'error', reason });

const CR = 0x0d;
const LF = 0x0a;
/** 2^64 - 1, the largest Content-Length llhttp takes. */
const MAX_UINT64 = '18446744073709551615';

/**
 * Reads the response to one request from the bytes of a connection, head by head: informational
 * (1xx) heads are read and skipped, the final one is returned with its framing.
 */
export class HeadParser {
  readonly #lines: LineReader;
  #stage: 'start' | 'status' | 'fields' = 'start';
  #head: ResponseHead = { status: 0, statusMessage: '', headers: {} };
  /** The name of the last field, which an obs-fold line continues. */
  #last: string | undefined;

  constructor(options: { maxHeadSize?: number } = {}) {
    this.#lines = new LineReader(options.maxHeadSize ?? MAX_HEAD, 'response head');
  }

  /** Reads `input`; after a 'head' or an 'error' step, the parser must not be fed again. */
  feed(input: Uint8Array): HeadStep {
    let i = 0;
    while (i < input.length) {
      if (this.#stage === 'start') {
        // Like llhttp, take CR and LF before a status line as empty lines (RFC 9112 §2.2 asks a
        // server to ignore at least one CRLF before a request line).
        while (i < input.length && (input[i] === CR || input[i] === LF)) i++;
        if (i === input.length) break;
        this.#stage = 'status';
      }
      const step = this.#lines.next(input, i);
      if (step.kind !== 'line') return step;
      i = step.next;
      const taken = this.#line(step.line);
      if (taken.kind === 'error') return taken;
      if (taken.kind === 'next') continue;
      const head = this.#head;
      const framing = framingOf(head);
      if (typeof framing === 'string') return { kind: 'error', reason: framing };
      // RFC 9110 §15.2: a client must parse 1xx responses before the final one, even unasked.
      // 101 is final here: the connection speaks another protocol after it (§15.2.2).
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        this.#head = { status: 0, statusMessage: '', headers: {} };
        this.#last = undefined;
        this.#lines.reset();
        continue;
      }
      return { kind: 'head', head, framing, used: i };
    }
    return { kind: 'more' };
  }

  /** Takes one line of the head: the head goes on, ends, or is malformed. */
  #line(line: Uint8Array): LineTaken {
    if (this.#stage === 'status') {
      const text = latin1(line);
      // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. Like llhttp,
      // take a missing SP before an empty reason, and any byte but CR and LF in it.
      const m = /^HTTP\/1\.[01] ([0-9]{3})(?:$| (.*)$)/s.exec(text);
      if (m === null) return malformed(`the status line is ${JSON.stringify(text.slice(0, 80))}`);
      this.#head.status = Number(m[1]);
      this.#head.statusMessage = m[2] ?? '';
      this.#stage = 'fields';
      return NEXT;
    }
    if (line.length === 0) {
      this.#stage = 'start';
      return END;
    }
    const field = parseFieldLine(line);
    const headers = this.#head.headers;
    switch (field.kind) {
      case 'error':
        return malformed(field.reason);
      case 'fold': {
        // RFC 9112 §2.2: whitespace before the first field line must not be taken as a fold.
        if (this.#last === undefined) return malformed('whitespace before the first field line');
        // RFC 9112 §5.2: a user agent replaces each obs-fold with SP (llhttp rejects it).
        const last = this.#last;
        const before = headers[last] as string;
        if (field.value !== '')
          headers[last] = before === '' ? field.value : `${before} ${field.value}`;
        return NEXT;
      }
      case 'field': {
        const before = headers[field.name];
        headers[field.name] = before === undefined ? field.value : `${before}, ${field.value}`;
        this.#last = field.name;
        return NEXT;
      }
    }
  }
}

/**
 * The framing of a response's body (RFC 9112 §6.3), or the reason it has none that can be
 * trusted. The framing fields are checked for every status, as llhttp does.
 */
export function framingOf(head: ResponseHead): Framing | string {
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  let length: number | undefined;
  if (cl !== undefined) {
    // RFC 9110 §8.6: Content-Length = 1*DIGIT. Repeated fields arrive joined by ", ": like llhttp,
    // refuse them even when equal (the RFC lets a recipient reject them as invalid).
    const digits = cl.replace(/^0+(?=[0-9])/, '');
    if (!/^[0-9]+$/.test(digits) || tooLarge(digits, MAX_UINT64)) {
      return `the Content-Length is ${JSON.stringify(cl.slice(0, 80))}`;
    }
    length = Number(digits);
  }
  // §6.3 item 3: both "ought to be handled as an error" (a sign of request smuggling).
  if (te !== undefined && cl !== undefined) {
    return 'the response has both Transfer-Encoding and Content-Length';
  }
  if ((head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) {
    return { kind: 'none' };
  }
  if (te !== undefined) {
    // §6.3 item 4: chunked must be the final coding; in a response, anything else is read until
    // the connection closes.
    return /(?:^|,)[ \t]*chunked[ \t]*$/i.test(te) ? { kind: 'chunked' } : { kind: 'close' };
  }
  if (length !== undefined) {
    if (!Number.isSafeInteger(length)) return `the Content-Length is too large: ${cl}`;
    return { kind: 'length', length };
  }
  // §6.3 item 8: otherwise the body ends when the server closes the connection.
  return { kind: 'close' };
}

/** Whether a decimal without leading zeros is above `max` (also decimal). */
function tooLarge(digits: string, max: string): boolean {
  return digits.length > max.length || (digits.length === max.length && digits > max);
}
