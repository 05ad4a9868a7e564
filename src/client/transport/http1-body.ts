/**
 * The body of an HTTP/1.1 response, decoded as its framing says (RFC 9112 §6.3): a known length,
 * the chunked transfer coding (§7.1), or everything until the connection closes. Data is handed
 * out as slices of the input, never copied. Pure: bytes in, slices and reasons out.
 */
import { isTchar, isWhitespace, LineReader, latin1, parseFieldLine } from './http1-fields.js';
import { type Framing, MAX_HEAD } from './http1-head.js';

export type DecodeStep =
  /** `used` bytes of the input belong to the body (all of them, unless the body ended). */
  { kind: 'body'; used: number } | { kind: 'error'; reason: string };

const CR = 0x0d;
const LF = 0x0a;

/** Where the chunked decoder is: in a chunk-size line, in chunk data, or in the trailers. */
type ChunkState =
  /** chunk-size = 1*HEXDIG; `digits` counts them. */
  | 'size'
  /** After BWS that follows the size or an extension value: only BWS or ";" may follow. */
  | 'bws'
  /** After ";": BWS, then a chunk-ext-name. */
  | 'name-start'
  | 'name'
  /** After BWS that follows a name: BWS, "=" or ";". */
  | 'name-end'
  /** After "=": BWS, then a token or a quoted-string. */
  | 'value-start'
  | 'token'
  | 'quoted'
  | 'quoted-pair'
  /** After a chunk-ext-val: ";", BWS or the CR that ends the line. */
  | 'value-end'
  /** After the CR of a chunk-size line. */
  | 'size-lf'
  | 'data'
  | 'data-cr'
  | 'data-lf'
  | 'trailers'
  | 'done';

/** Decodes one response body; `done` once every byte of it arrived. */
export class BodyDecoder {
  readonly #kind: Framing['kind'];
  /** Body bytes still to come: of the whole body ('length') or of the chunk ('chunked'). */
  #left: number;
  #state: ChunkState = 'size';
  #digits = 0;
  #trailers: LineReader | undefined;
  /** Whether a field line came before in the trailer section (an obs-fold may continue it). */
  #field = false;
  #done: boolean;

  constructor(framing: Framing) {
    this.#kind = framing.kind;
    this.#left = framing.kind === 'length' ? framing.length : 0;
    this.#done = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0);
  }

  /** Whether the whole body arrived. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Decodes `input`, calling `out` with each slice of body data in order (a slice is a view of
   * `input`). Bytes after the end of the body are left unused: with one request per connection
   * they are discarded (RFC 9112 §6.3: a client "MAY discard the remaining data").
   */
  feed(input: Uint8Array, out: (data: Uint8Array) => void): DecodeStep {
    if (this.#done) return { kind: 'body', used: 0 };
    switch (this.#kind) {
      case 'length': {
        const n = Math.min(this.#left, input.length);
        if (n > 0) out(n === input.length ? input : input.subarray(0, n));
        this.#left -= n;
        if (this.#left === 0) this.#done = true;
        return { kind: 'body', used: n };
      }
      case 'close':
        if (input.length > 0) out(input);
        return { kind: 'body', used: input.length };
      case 'chunked':
        return this.#chunked(input, out);
      default:
        return { kind: 'body', used: 0 };
    }
  }

  /**
   * The connection closed: undefined if the body is complete (a body delimited by the close ends
   * here), else why it is not.
   */
  close(): string | undefined {
    if (this.#kind === 'close') this.#done = true;
    if (this.#done) return undefined;
    // RFC 9112 §8: a message whose framing says it is longer is incomplete.
    return this.#kind === 'length'
      ? 'connection closed'
      : 'connection closed inside a chunked body';
  }

  /** Chunked transfer coding (RFC 9112 §7.1). */
  #chunked(input: Uint8Array, out: (data: Uint8Array) => void): DecodeStep {
    let i = 0;
    while (i < input.length) {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, input.length - i);
        out(input.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = 'data-cr';
        continue;
      }
      if (this.#state === 'trailers') {
        const reason = this.#trailerLines(input, i);
        if (typeof reason === 'string') return { kind: 'error', reason };
        i = reason;
        if (this.#done) return { kind: 'body', used: i };
        continue;
      }
      const reason = this.#sizeLine(input[i++] as number);
      if (reason !== undefined) return { kind: 'error', reason };
    }
    return { kind: 'body', used: i };
  }

  /**
   * One byte of a chunk-size line or of the CRLF after chunk data (RFC 9112 §7.1, §7.1.1):
   * `chunk-size [ chunk-ext ] CRLF`, where chunk-ext = *( BWS ";" BWS chunk-ext-name
   * [ BWS "=" BWS chunk-ext-val ] ) and chunk-ext-val = token / quoted-string. Extensions are
   * checked and ignored ("A recipient MUST ignore unrecognized chunk extensions").
   */
  #sizeLine(c: number): string | undefined {
    switch (this.#state) {
      case 'size': {
        const hex = hexValue(c);
        if (hex !== undefined) {
          this.#digits++;
          this.#left = this.#left * 16 + hex;
          // No body this big can come; llhttp takes up to 2^64 - 1 and fails at the close.
          if (this.#left > Number.MAX_SAFE_INTEGER) return 'a chunk size is too large';
          return undefined;
        }
        if (this.#digits === 0) return `a chunk size is missing (${describe(c)})`;
        return this.#afterValue(c, 'a chunk size is malformed');
      }
      case 'bws':
        if (c === 0x3b) this.#state = 'name-start';
        else if (!isWhitespace(c)) return `a chunk extension is malformed (${describe(c)})`;
        return undefined;
      case 'name-start':
        if (isTchar(c)) this.#state = 'name';
        else if (!isWhitespace(c)) return `a chunk extension name is malformed (${describe(c)})`;
        return undefined;
      case 'name':
        if (isTchar(c)) return undefined;
        if (c === 0x3d) this.#state = 'value-start';
        else if (isWhitespace(c)) this.#state = 'name-end';
        else return this.#afterValue(c, 'a chunk extension name is malformed');
        return undefined;
      case 'name-end':
        if (c === 0x3d) this.#state = 'value-start';
        else if (c === 0x3b) this.#state = 'name-start';
        else if (!isWhitespace(c)) return `a chunk extension is malformed (${describe(c)})`;
        return undefined;
      case 'value-start':
        if (c === 0x22) this.#state = 'quoted';
        else if (isTchar(c)) this.#state = 'token';
        else if (!isWhitespace(c))
          return this.#afterValue(c, 'a chunk extension value is malformed');
        return undefined;
      case 'token':
        if (!isTchar(c)) return this.#afterValue(c, 'a chunk extension value is malformed');
        return undefined;
      case 'quoted':
        // RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
        if (c === 0x22) this.#state = 'value-end';
        else if (c === 0x5c) this.#state = 'quoted-pair';
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
          return `a chunk extension value is malformed (${describe(c)})`;
        }
        return undefined;
      case 'quoted-pair':
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
          return `a chunk extension value is malformed (${describe(c)})`;
        }
        this.#state = 'quoted';
        return undefined;
      case 'value-end':
        return this.#afterValue(c, 'a chunk extension is malformed');
      case 'size-lf':
        if (c !== LF) return 'a chunk size line does not end in CRLF';
        this.#digits = 0;
        if (this.#left > 0) {
          this.#state = 'data';
        } else {
          // The last chunk: the trailer section follows (§7.1.2).
          this.#state = 'trailers';
          this.#trailers = new LineReader(MAX_HEAD, 'trailer section');
        }
        return undefined;
      case 'data-cr':
        if (c !== CR) return 'chunk data does not end in CRLF';
        this.#state = 'data-lf';
        return undefined;
      case 'data-lf':
        if (c !== LF) return 'chunk data does not end in CRLF';
        this.#state = 'size';
        return undefined;
      default:
        return undefined;
    }
  }

  /** After a size, a name or a value: ";" starts an extension, BWS may precede one, CR ends. */
  #afterValue(c: number, malformed: string): string | undefined {
    if (c === 0x3b) this.#state = 'name-start';
    else if (c === CR) this.#state = 'size-lf';
    else if (isWhitespace(c)) this.#state = 'bws';
    else return `${malformed} (${describe(c)})`;
    return undefined;
  }

  /**
   * Reads trailer field lines from `from` (RFC 9112 §7.1.2), checked like header fields and then
   * discarded; returns the index after them, or a reason.
   */
  #trailerLines(input: Uint8Array, from: number): number | string {
    const lines = this.#trailers as LineReader;
    let i = from;
    while (i < input.length) {
      const step = lines.next(input, i);
      if (step.kind === 'error') return step.reason;
      if (step.kind === 'more') return input.length;
      i = step.next;
      if (step.line.length === 0) {
        this.#done = true;
        this.#state = 'done';
        return i;
      }
      const field = parseFieldLine(step.line);
      if (field.kind === 'error') return `${field.reason} in the trailers`;
      if (field.kind === 'fold' && !this.#field) return 'whitespace before the first trailer line';
      // RFC 9110 §6.5.1: framing fields cannot be trailers; llhttp rejects this one.
      if (field.kind === 'field' && field.name === 'content-length') {
        return 'a Content-Length in the trailers';
      }
      this.#field = true;
    }
    return i;
  }
}

function hexValue(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return undefined;
}

function describe(c: number): string {
  return c >= 0x21 && c <= 0x7e
    ? JSON.stringify(latin1(Uint8Array.of(c)))
    : `byte 0x${c.toString(16)}`;
}
