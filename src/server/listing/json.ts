/**
 * The listing as JSON, for scripts (`Accept: application/json`). Pure.
 */
import { entryHref, type ListingEntry } from './entry.js';
import { DEFAULT_SORT, type ListingSort } from './order.js';
import { folderPath, type Pagination, pageQuery } from './pages.js';

/**
 * The JSON document for scripts: `{ path, entries: [{ name, kind, size, mtime, type, etag, href }] }`,
 * and with `pagination`, `page`, `pages`, `total`, `truncated` and `next` / `prev` (relative URLs
 * of the neighbouring pages, or null).
 */
export function renderListingJson(
  segments: readonly string[],
  entries: readonly ListingEntry[],
  pagination?: Pagination,
  sort: ListingSort = DEFAULT_SORT,
): string {
  const doc = {
    path: folderPath(segments),
    ...(pagination === undefined
      ? {}
      : {
          page: pagination.page,
          pages: pagination.pages,
          total: pagination.total,
          truncated: pagination.truncated,
          next: pagination.page < pagination.pages ? pageQuery(sort, pagination.page + 1) : null,
          prev: pagination.page > 1 ? pageQuery(sort, pagination.page - 1) : null,
        }),
    entries: entries.map((e) => ({
      name: e.name,
      kind: e.kind,
      size: e.size,
      mtime: e.mtime,
      type: e.type,
      etag: e.etag,
      href: entryHref(e),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
