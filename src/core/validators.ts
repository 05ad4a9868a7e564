/**
 * Validators: entity-tags (RFC 9110 §8.8.3) and HTTP-dates (§5.6.7, §8.8.2).
 */

export interface FileIdentity {
  size: number;
  /** Modification time in milliseconds, as `fs.Stats.mtimeMs` (fractional part kept to 1 µs). */
  mtimeMs: number;
  /** Inode number: a file replaced by rename gets a new tag even with the same size and time. */
  ino?: number;
}

/**
 * A strong entity-tag for a file: it changes whenever the inode, size or modification time (to the
 * microsecond) changes. §8.8.3.1: a strong validator changes with every change of the data.
 */
export function fileETag(file: FileIdentity): string {
  const micros = Math.round(file.mtimeMs * 1000);
  const ino = file.ino === undefined ? '' : `${file.ino.toString(36)}-`;
  return `"${ino}${file.size.toString(36)}-${micros.toString(36)}"`;
}

export function isWeak(tag: string): boolean {
  return tag.startsWith('W/');
}

/** §8.8.3.2: strong comparison: both strong and their opaque-tags identical. */
export function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && a === b;
}

/** §8.8.3.2: weak comparison: opaque-tags identical, weakness ignored. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

function opaque(tag: string): string {
  return isWeak(tag) ? tag.slice(2) : tag;
}

/** A valid entity-tag: `[W/]"etagc*"` where etagc is %x21 / %x23-7E / obs-text (§8.8.3). */
const ETAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

export function isETag(text: string): boolean {
  return ETAG.test(text);
}

export type ETagList = { kind: 'any' } | { kind: 'tags'; tags: string[] };

/**
 * Parses `If-Match` / `If-None-Match`: `"*"` or a comma list of entity-tags (§13.1.1, §13.1.2).
 * Commas may appear inside a quoted tag, so the list is scanned, not split. Elements that are not
 * entity-tags are skipped, so a malformed list matches nothing rather than everything.
 */
export function parseETagList(value: string): ETagList {
  if (value.trim() === '*') return { kind: 'any' };
  const tags: string[] = [];
  const re = /(?:W\/)?"[^"]*"/g;
  for (const m of value.matchAll(re)) if (isETag(m[0])) tags.push(m[0]);
  return { kind: 'tags', tags };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMF-fixdate (§5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, truncated to the second. */
export function formatHttpDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  // A one-entry memo: a hot file asks for the same date on every request.
  if (seconds !== lastDate.seconds)
    lastDate = { seconds, text: new Date(seconds * 1000).toUTCString() };
  return lastDate.text;
}
let lastDate = { seconds: Number.NaN, text: '' };

const IMF =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three forms a recipient must accept (§5.6.7), returning
 * milliseconds since the epoch, or undefined when the text is not a valid date.
 */
export function parseHttpDate(text: string): number | undefined {
  const value = text.trim();
  // Each form captured as [year, month name, day, hh, mm, ss].
  let fields: (string | undefined)[] | undefined;
  const imf = IMF.exec(value);
  const rfc850 = RFC850.exec(value);
  const asctime = ASCTIME.exec(value);
  if (imf !== null) fields = [imf[3], imf[2], imf[1], imf[4], imf[5], imf[6]];
  else if (rfc850 !== null) {
    // §5.6.7: a two-digit year more than 50 years in the future is in the past century. Without a
    // clock here, years 00-69 are read as 20xx and 70-99 as 19xx (the POSIX convention).
    const yy = Number(rfc850[3]);
    fields = [
      String(yy < 70 ? 2000 + yy : 1900 + yy),
      rfc850[2],
      rfc850[1],
      rfc850[4],
      rfc850[5],
      rfc850[6],
    ];
  } else if (asctime !== null) {
    fields = [asctime[6], asctime[1], asctime[2]?.trim(), asctime[3], asctime[4], asctime[5]];
  }
  if (fields === undefined) return undefined;
  const [year, day, hh, mm, ss] = [fields[0], fields[2], fields[3], fields[4], fields[5]].map(
    Number,
  ) as [number, number, number, number, number];
  const month = MONTHS.indexOf(fields[1] ?? '');
  if (month === -1) return undefined;
  const ms = Date.UTC(year, month, day, hh, mm, ss);
  const check = new Date(ms);
  // Reject dates that Date.UTC silently rolls over (31 Feb, 25:00:00, 60 seconds).
  if (check.getUTCDate() !== day || check.getUTCHours() !== hh) return undefined;
  if (check.getUTCMinutes() !== mm || check.getUTCSeconds() !== ss) return undefined;
  return ms;
}
