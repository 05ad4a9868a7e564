/**
 * A listing in pages: which slice of a sorted folder a request gets, the folder's totals, and the
 * links between pages. Pure.
 */
import type { ListingEntry } from './entry.js';
import { DEFAULT_SORT, type ListingSort } from './order.js';

/**
 * One page of a listing: which page, of how many, and the totals of the whole folder (the page
 * shows only `perPage` entries, its summary counts all).
 */
export interface Pagination {
  /** 1-based. */
  page: number;
  pages: number;
  perPage: number;
  /** Entries in the folder (of those read, see `truncated`). */
  total: number;
  /** True if the folder holds more entries than a listing reads; only the first are listed. */
  truncated: boolean;
  folders: number;
  files: number;
  /** Bytes in all the files listed. */
  bytes: number;
}

/** Reads `?page=N` (1-based); anything else is page 1. Pages past the last show the last. */
export function parseListingPage(query: string): number {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const page = params.get('page');
  return page !== null && /^[1-9][0-9]{0,8}$/.test(page) ? Number(page) : 1;
}

/** How many folders and files `entries` holds, and the bytes in the files. */
export function countEntries(
  entries: readonly ListingEntry[],
): Pick<Pagination, 'folders' | 'files' | 'bytes'> {
  let folders = 0;
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.kind === 'directory') folders++;
    else {
      files++;
      bytes += e.size ?? 0;
    }
  }
  return { folders, files, bytes };
}

/**
 * The page to show of `entries` (the whole folder, sorted) for a requested page. `counts` are the
 * folder's totals when the caller already has them (counting 100,000 entries for every page
 * request is most of a page's cost).
 */
export function paginate(
  entries: readonly ListingEntry[],
  requested: number,
  perPage: number,
  truncated = false,
  counts: Pick<Pagination, 'folders' | 'files' | 'bytes'> = countEntries(entries),
): { pagination: Pagination; slice: readonly ListingEntry[] } {
  const pages = Math.max(1, Math.ceil(entries.length / perPage));
  const page = Math.min(Math.max(1, requested), pages);
  const slice = entries.slice((page - 1) * perPage, page * perPage);
  return {
    pagination: { page, pages, perPage, total: entries.length, truncated, ...counts },
    slice,
  };
}

/** The query string for a page in a sort order (the default order is left out). */
export function pageQuery(sort: ListingSort, page: number): string {
  const params: string[] = [];
  if (sort.key !== DEFAULT_SORT.key || sort.order !== DEFAULT_SORT.order) {
    params.push(`sort=${sort.key}`, `order=${sort.order}`);
  }
  if (page > 1) params.push(`page=${page}`);
  return params.length === 0 ? './' : `?${params.join('&')}`;
}

/** The folder's URL path for display and JSON (`/`, `/music/live/`), from decoded segments. */
export function folderPath(segments: readonly string[]): string {
  return `/${segments.map((s) => `${s}/`).join('')}`;
}
