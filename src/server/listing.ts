/**
 * Folder listings: HTML for people, JSON (`Accept: application/json`) for scripts.
 */
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileETag } from '../core/validators.js';
import { typeForPath } from './serve-file.js';

export interface ListingEntry {
  name: string;
  /** `directory` or `file`. */
  kind: 'directory' | 'file';
  size: number;
  /** Modification time, ISO 8601. */
  mtime: string;
  /** Content-Type for files, `inode/directory` for folders. */
  type: string;
  /** The strong ETag the file is served with (null for folders). */
  etag: string | null;
}

/** Reads a folder into listing entries: folders first, then by name. */
export async function readListing(
  dir: string,
  options: { dotfiles: boolean },
): Promise<ListingEntry[]> {
  const entries: ListingEntry[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    if (!options.dotfiles && dirent.name.startsWith('.')) continue;
    let stats: Awaited<ReturnType<typeof stat>>;
    try {
      stats = await stat(join(dir, dirent.name));
    } catch {
      continue; // a dangling symlink or a file removed meanwhile
    }
    if (!stats.isDirectory() && !stats.isFile()) continue;
    const isDir = stats.isDirectory();
    entries.push({
      name: dirent.name,
      kind: isDir ? 'directory' : 'file',
      size: isDir ? 0 : stats.size,
      mtime: new Date(stats.mtimeMs).toISOString(),
      type: isDir ? 'inode/directory' : typeForPath(dirent.name),
      etag: isDir ? null : fileETag(stats),
    });
  }
  entries.sort((a, b) =>
    a.kind === b.kind
      ? a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0
      : a.kind === 'directory'
        ? -1
        : 1,
  );
  return entries;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Sends a folder listing; `segments` are the decoded URL path segments of the folder. */
export async function sendListing(
  req: IncomingMessage,
  res: ServerResponse,
  dir: string,
  segments: string[],
  options: { dotfiles: boolean },
): Promise<void> {
  const entries = await readListing(dir, options);
  const wantsJson = /\bapplication\/json\b/.test(req.headers.accept ?? '');
  let body: string;
  let type: string;
  if (wantsJson) {
    body = `${JSON.stringify({ path: `/${segments.map((s) => `${s}/`).join('')}`, entries }, null, 2)}\n`;
    type = 'application/json; charset=utf-8';
  } else {
    const title = escapeHtml(`/${segments.map((s) => `${s}/`).join('')}`);
    const rows = entries
      .map((e) => {
        const href = encodeURIComponent(e.name) + (e.kind === 'directory' ? '/' : '');
        return `<li><a href="${href}">${escapeHtml(e.name)}${e.kind === 'directory' ? '/' : ''}</a></li>`;
      })
      .join('\n');
    body = `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><ul>\n${rows}\n</ul>\n`;
    type = 'text/html; charset=utf-8';
  }
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    Vary: 'Accept',
    'Cache-Control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
