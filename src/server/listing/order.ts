/**
 * The one order of a listing, used by the server's render and, compiled into the page's script,
 * by the page when a column header is clicked. Pure.
 */
import { encodePathSegment, type ListingEntry } from './entry.js';

export type SortKey = 'name' | 'size' | 'mtime';
export type SortOrder = 'asc' | 'desc';
export interface ListingSort {
  key: SortKey;
  order: SortOrder;
}

/** The order a listing starts in. */
export const DEFAULT_SORT: ListingSort = { key: 'name', order: 'asc' };

/** What an order looks at: the page carries the same facts in each row. */
export type SortFacts = Pick<ListingEntry, 'name' | 'kind' | 'size' | 'mtime' | 'bytes'>;

/**
 * Reads `?sort=name|size|mtime&order=asc|desc` from a request-target's query; anything else gives
 * the default for that part.
 */
export function parseListingSort(query: string): ListingSort {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const key = params.get('sort');
  const order = params.get('order');
  return {
    key: key === 'size' || key === 'mtime' || key === 'name' ? key : DEFAULT_SORT.key,
    order: order === 'desc' || order === 'asc' ? order : DEFAULT_SORT.order,
  };
}

// A fixed locale, not the reader's: the server and every browser must agree on one order.
// Made on first use: ICU's collation data costs a server that never lists several MiB of memory.
let collator: Intl.Collator | undefined;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares names as people expect (`2.txt` before `10.txt`, case-insensitive), then exactly. */
export function compareNames(a: string, b: string): number {
  collator ??= new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return collator.compare(a, b) || compareText(a, b);
}

/**
 * The comparator of a listing: folders always first, then `sort.key` in `sort.order`, ties by
 * name. Folders have no size, so a size sort orders them by name. Two names that are not UTF-8
 * can show as the same text (U+FFFD); their bytes decide, so the order is total and the page and
 * the server agree on it.
 */
export function compareEntries(sort: ListingSort): (a: SortFacts, b: SortFacts) => number {
  const sign = sort.order === 'asc' ? 1 : -1;
  return (a, b) => {
    if (a.kind !== b.kind) return a.kind === 'directory' ? -1 : 1;
    let by = 0;
    if (sort.key === 'size') by = (a.size ?? 0) - (b.size ?? 0);
    else if (sort.key === 'mtime') by = compareText(a.mtime ?? '', b.mtime ?? '');
    return (
      sign *
      (by ||
        compareNames(a.name, b.name) ||
        compareText(encodePathSegment(a.bytes ?? a.name), encodePathSegment(b.bytes ?? b.name)))
    );
  };
}

/** Sorts entries by `compareEntries(sort)`. Returns a new array. */
export function sortEntries<T extends SortFacts>(
  entries: readonly T[],
  sort: ListingSort = DEFAULT_SORT,
): T[] {
  return [...entries].sort(compareEntries(sort));
}
