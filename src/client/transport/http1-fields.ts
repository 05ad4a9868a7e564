/**
 * Lines and field lines of HTTP/1.1 (RFC 9112 §2.2, §5), shared by the response head and the
 * trailer section of a chunked body. Pure: bytes in, values or reasons out.
 *
 * Strictness follows Node's own parser (llhttp) wherever the RFC leaves the recipient a choice:
 * a line ends in CRLF (a bare LF or a bare CR is an error), no whitespace between a field name
 * and its colon, and no control character but HTAB in a field value.
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/**
 * tchar (RFC 9110 §5.6.2): "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
 * / "`" / "|" / "~" / DIGIT / ALPHA.
 */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** Whether `c` is a tchar (RFC 9110 §5.6.2). */
export function isTchar(c: number): boolean {
  return TCHAR[c] === 1;
}

/** Whether `c` is SP or HTAB (OWS, RFC 9110 §5.6.3). */
export function isWhitespace(c: number): boolean {
  return c === SP || c === HTAB;
}

/** What the next line of the input is. */
export type LineStep =
  /** A whole line, without its CRLF; `next` is the index after the LF. */
  | { kind: 'line'; line: Uint8Array; next: number }
  /** The input ends inside a line (kept); feed more. */
  | { kind: 'more' }
  | { kind: 'error'; reason: string };

/**
 * Splits bytes into CRLF-terminated lines across any number of inputs. The part of a line that
 * an input ends in is copied (callers reuse their buffers). Counts every byte it is given until
 * `reset()`, and fails beyond `limit` (a head or trailer section without an end).
 */
export class LineReader {
  #pending: Uint8Array | undefined;
  #size = 0;
  readonly #limit: number;
  readonly #what: string;

  constructor(limit: number, what: string) {
    this.#limit = limit;
    this.#what = what;
  }

  /** Starts counting a new section (after a 1xx head, for the next head). */
  reset(): void {
    this.#size = 0;
  }

  next(input: Uint8Array, from: number): LineStep {
    const lf = input.indexOf(LF, from);
    this.#size += (lf < 0 ? input.length : lf + 1) - from;
    if (this.#size > this.#limit) {
      return { kind: 'error', reason: `the ${this.#what} is larger than ${this.#limit} bytes` };
    }
    const part = input.subarray(from, lf < 0 ? input.length : lf);
    const pending = this.#pending;
    const line = pending === undefined ? part : concat(pending, part);
    if (lf < 0) {
      this.#pending = pending === undefined ? Uint8Array.from(part) : line;
      return { kind: 'more' };
    }
    this.#pending = undefined;
    // RFC 9112 §2.2: a recipient MAY take a bare LF as a line end; llhttp does not, nor do we.
    if (line[line.length - 1] !== CR) return { kind: 'error', reason: 'a line ends in a bare LF' };
    const content = line.subarray(0, line.length - 1);
    // RFC 9112 §2.2: a bare CR must be taken as invalid (or replaced with SP).
    if (content.indexOf(CR) >= 0) return { kind: 'error', reason: 'a line holds a bare CR' };
    return { kind: 'line', line: content, next: lf + 1 };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Bytes as latin1 text: one character per byte. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', start, end);
}

/** A field line, read; `name` is lowercased. */
export type FieldLine =
  | { kind: 'field'; name: string; value: string }
  /** obs-fold (RFC 9112 §5.2): a line that continues the previous field's value. */
  | { kind: 'fold'; value: string }
  | { kind: 'error'; reason: string };

/**
 * Reads one field line (RFC 9112 §5): `field-name ":" OWS field-value OWS`. The value loses its
 * leading and trailing OWS; obs-fold lines are told apart so the caller can join them.
 */
export function parseFieldLine(line: Uint8Array): FieldLine {
  const shown = (): string => JSON.stringify(latin1(line, 0, Math.min(line.length, 80)));
  if (line.length > 0 && isWhitespace(line[0] as number)) {
    const value = fieldValue(line, 0);
    return value === undefined
      ? { kind: 'error', reason: `a folded line holds a control character: ${shown()}` }
      : { kind: 'fold', value };
  }
  let colon = 0;
  while (colon < line.length && isTchar(line[colon] as number)) colon++;
  if (colon === line.length || line[colon] !== 0x3a) {
    // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon."
    const reason =
      colon > 0 && isWhitespace(line[colon] as number)
        ? 'whitespace between a field name and its colon'
        : 'a malformed field line';
    return { kind: 'error', reason: `${reason}: ${shown()}` };
  }
  if (colon === 0) return { kind: 'error', reason: `a field line without a name: ${shown()}` };
  const value = fieldValue(line, colon + 1);
  if (value === undefined) {
    return { kind: 'error', reason: `a field value holds a control character: ${shown()}` };
  }
  return { kind: 'field', name: latin1(line, 0, colon).toLowerCase(), value };
}

/**
 * field-value (RFC 9110 §5.5) from `start`, without leading and trailing OWS: SP, HTAB, VCHAR and
 * obs-text only (NUL, other controls and DEL make it undefined).
 */
function fieldValue(line: Uint8Array, start: number): string | undefined {
  let first = start;
  let end = line.length;
  while (first < end && isWhitespace(line[first] as number)) first++;
  while (end > first && isWhitespace(line[end - 1] as number)) end--;
  for (let i = first; i < end; i++) {
    const c = line[i] as number;
    if ((c < 0x20 && c !== HTAB) || c === 0x7f) return undefined;
  }
  return latin1(line, first, end);
}
