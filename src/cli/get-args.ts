/**
 * The argument parsers of `ranged get` (pure: text in, a value or a UsageError out), and the
 * command-line wording of a SizeLimitError.
 */
import { type HeaderField, mergeHeaders, parseHeaderLine } from '../core/request-headers.js';
import { type SizeLimitError, UsageError } from '../errors.js';
import { formatBytes } from './render.js';

/**
 * The default output name for a URL: its last path segment, percent-decoded, with separators and
 * control characters replaced; `index.html` when that leaves nothing usable.
 */
export function outputName(url: string): string {
  let segment: string;
  try {
    segment = new URL(url).pathname.split('/').at(-1) ?? '';
  } catch {
    return 'index.html';
  }
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  name = name.replace(/[/\\\x00-\x1f\x7f]/g, '_').trim();
  if (name === '' || name === '.' || name === '..') return 'index.html';
  while (Buffer.byteLength(name) > 240) name = name.slice(0, -1);
  return name;
}

const SCALE: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A byte count with an optional unit: K, M, G, T are powers of 1024 (as in curl), and a `B` or
 * `iB` after the unit changes nothing (`64G`, `64GB`, `64GiB` and `64gib` are equal); a plain
 * number is bytes. `/s` is accepted after a rate. NaN when malformed (no sign, exponent or hex).
 */
function parseUnits(text: string, options: { rate: boolean }): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(?:([kmgt])(?:i?b)?|b)?(\/s)?$/i.exec(text.trim());
  if (m === null || (m[3] !== undefined && !options.rate)) return Number.NaN;
  return Number(m[1]) * (SCALE[(m[2] ?? '').toLowerCase()] ?? Number.NaN);
}

/** `500K` → 512000 bytes/s; K, M, G, T are powers of 1024 (as in curl); a plain number is bytes. */
export function parseRate(text: string): number {
  const value = parseUnits(text, { rate: true });
  if (!(value >= 1) || !Number.isFinite(value)) {
    throw new UsageError(`Cannot use --limit-rate "${text}": expected a rate such as 500K or 2M`);
  }
  return Math.floor(value);
}

/**
 * `--max-size`: `64G` (= `64GB` = `64GiB`) → 68719476736 bytes, with the units of `parseRate()`;
 * at least 1 byte. A size past 2^53 - 1 clamps to it (house rule 5: no file is that large).
 */
export function parseSize(text: string, name = '--max-size'): number {
  const value = parseUnits(text, { rate: false });
  if (!(value >= 1)) {
    throw new UsageError(
      `Cannot use ${name} "${text}": expected a size of at least 1 byte, such as 500M, 64G or 64GiB`,
    );
  }
  return Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER);
}

/**
 * An integer option from `min` (0 or 1) to `max`; undefined when not given. A negative number, a
 * fraction or a word "must be a positive integer" (`a non-negative integer` when 0 is allowed).
 */
export function parseCount(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const kind = min === 0 ? 'a non-negative integer' : 'a positive integer';
    throw new UsageError(`Cannot use ${name} "${text}": must be ${kind} from ${min} to ${max}`);
  }
  return n;
}

/**
 * Joins an option and a following negative number into one argument (`-c -1` → `-c-1`,
 * `--retries -3` → `--retries=-3`), so that node:util parseArgs hands the value to the option's own
 * check ("must be a positive integer") instead of calling it ambiguous. Stops at `--`.
 */
export function attachNegativeNumbers(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const option = /^--[^=]+$/.test(arg) || /^-[^-]$/.test(arg);
    if (option && next !== undefined && /^-[0-9.]/.test(next)) {
      out.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * One line for a node:util parseArgs error (ERR_PARSE_ARGS_*), naming the subcommand's help:
 * `Unknown option '--foo'. See 'ranged get --help'.`
 */
export function parseArgsMessage(message: string, command: string): string {
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  const first = unknown !== null ? unknown[0] : (message.split('\n')[0] ?? '').replace(/\.$/, '');
  return `${first}. See 'ranged ${command} --help'.`;
}

/** The `-H 'Name: value'` arguments as one record of fields (repeated names joined). */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const fields: HeaderField[] = [];
  for (const line of lines) {
    const check = parseHeaderLine(line);
    if (check.kind === 'invalid') {
      throw new UsageError(`Cannot use --header ${JSON.stringify(line)}: ${check.reason}`);
    }
    fields.push({ name: check.name, value: check.value });
  }
  return mergeHeaders(fields);
}

/** A SizeLimitError from `download()` said in the terms of the command line (`--max-size`). */
export function sizeLimitMessage(url: string, error: SizeLimitError): string {
  const limit = `--max-size ${formatBytes(error.limit)}`;
  if (error.size === undefined) {
    return `Cannot download "${url}": the body passed ${limit} without a declared length; stopped there and deleted the partial data`;
  }
  return `Cannot download "${url}": the server declares ${formatBytes(error.size)} (${error.size} bytes), more than ${limit}; nothing was downloaded`;
}
