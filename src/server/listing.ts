/**
 * Folder listings: an HTML page for people, JSON (`Accept: application/json`) for scripts. This is
 * the I/O shell; core/listing-view.ts decides the order, the links and the documents.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  type ListingEntry,
  parseListingSort,
  prefersJson,
  renderListingHtml,
  renderListingJson,
  sortEntries,
} from '../core/listing-view.js';
import { fileETag } from '../core/validators.js';
import { LISTING_CSP, LISTING_CSS, LISTING_SCRIPT } from './assets.js';
import { isServable } from './inside-root.js';
import { typeForPath } from './serve-file.js';

export type { ListingEntry } from '../core/listing-view.js';

/**
 * Reads a folder into listing entries, folders first, then by name. Skipped: dot names (unless
 * `dotfiles`), entries that are neither files nor folders, dangling symlinks, and names with a
 * backslash (the handler refuses those as encoded separators, so their links could never work).
 */
export async function readListing(
  dir: string,
  options: { dotfiles: boolean; root?: string },
): Promise<ListingEntry[]> {
  const names = (await readdir(dir)).filter(
    (name) => (options.dotfiles || !name.startsWith('.')) && !name.includes('\\'),
  );
  const entries = await Promise.all(
    names.map(async (name): Promise<ListingEntry | undefined> => {
      let stats: Awaited<ReturnType<typeof stat>>;
      try {
        const path = join(dir, name);
        // A symlink is listed only if it could be served: nothing about a target outside the
        // root (not even its size or time) is shown.
        if (options.root !== undefined && (await lstat(path)).isSymbolicLink()) {
          if (!isServable(options.root, await realpath(path), options)) return undefined;
        }
        stats = await stat(path);
      } catch {
        return undefined; // a dangling symlink or a file removed meanwhile
      }
      const mtime = new Date(stats.mtimeMs).toISOString();
      if (stats.isDirectory()) {
        return { name, kind: 'directory', size: null, mtime, type: 'inode/directory', etag: null };
      }
      if (!stats.isFile()) return undefined;
      return {
        name,
        kind: 'file',
        size: stats.size,
        mtime,
        type: typeForPath(name),
        // The same tag serveFile() sends for this file.
        etag: fileETag({ size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino }),
      };
    }),
  );
  return sortEntries(entries.filter((e) => e !== undefined));
}

/**
 * Sends a folder listing; `segments` are the decoded URL path segments of the folder. The order
 * follows `?sort=name|size|mtime&order=asc|desc` (default: name, ascending).
 */
export async function sendListing(
  req: IncomingMessage,
  res: ServerResponse,
  dir: string,
  segments: string[],
  options: { dotfiles: boolean; root?: string },
): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const sort = parseListingSort(q === -1 ? '' : (target.slice(q + 1).split('#')[0] ?? ''));
  const entries = sortEntries(await readListing(dir, options), sort);
  const headers: Record<string, string> = {
    // RFC 9110 §12.5.5: the representation depends on Accept.
    Vary: 'Accept',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  };
  let body: string;
  if (prefersJson(req.headers.accept)) {
    body = renderListingJson(segments, entries);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  } else {
    body = renderListingHtml({
      segments,
      entries,
      sort,
      css: LISTING_CSS,
      script: LISTING_SCRIPT,
    });
    headers['Content-Type'] = 'text/html; charset=utf-8';
    headers['Content-Security-Policy'] = LISTING_CSP;
    headers['Referrer-Policy'] = 'no-referrer';
  }
  headers['Content-Length'] = String(Buffer.byteLength(body));
  if (res.headersSent) return void res.destroy();
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
