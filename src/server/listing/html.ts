/**
 * The listing page as HTML: every name escaped, every link encoded per segment, the stylesheet
 * and script inlined (the shell passes them in, with the CSP that allows exactly them). Pure.
 */
import { formatBytes } from '../../core/format-bytes.js';
import { entryHref, type ListingEntry } from './entry.js';
import { FAVICON, icon, iconSprite } from './icons.js';
import { fileCategory, kindLabel, previewFor } from './kinds.js';
import type { ListingSort, SortKey } from './order.js';
import { folderPath, type Pagination, pageQuery, paginate } from './pages.js';

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A modification time as `2024-05-01 12:34 UTC` (the page shows local time when scripts run). */
export function formatMtime(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : iso;
}

export interface ListingPage {
  /** Decoded URL path segments of the folder (empty for the root). */
  segments: readonly string[];
  /** Entries, already sorted by `sort`. */
  entries: readonly ListingEntry[];
  sort: ListingSort;
  /** Which page this is and the folder's totals; without it `entries` are the whole folder. */
  pagination?: Pagination;
  /** Stylesheet text, inlined in a <style> element. */
  css: string;
  /** Script text, inlined in a <script> element. */
  script: string;
  /** The server takes uploads: the page gets an upload control for this folder. @default false */
  uploads?: boolean;
}

const SORT_LABEL: Record<SortKey, string> = { name: 'Name', size: 'Size', mtime: 'Modified' };

function breadcrumb(segments: readonly string[]): string {
  const depth = segments.length;
  const up = (n: number) => (n === 0 ? './' : '../'.repeat(n));
  const items = [
    depth === 0
      ? '<li><a href="./" aria-current="page">Home</a></li>'
      : `<li><a href="${up(depth)}">Home</a></li>`,
  ];
  segments.forEach((segment, i) => {
    const current = i === depth - 1;
    items.push(
      `<li><a href="${up(depth - 1 - i)}"${current ? ' aria-current="page"' : ''}>${escapeHtml(segment)}</a></li>`,
    );
  });
  return `<nav class="crumbs" aria-label="Breadcrumb"><ol>${items.join('')}</ol></nav>`;
}

function summary(totals: Pick<Pagination, 'folders' | 'files' | 'bytes'>): string {
  const { folders, files, bytes } = totals;
  const parts = [];
  if (folders > 0) parts.push(`${folders} ${folders === 1 ? 'folder' : 'folders'}`);
  parts.push(`${files} ${files === 1 ? 'file' : 'files'}`);
  if (files > 0) parts.push(formatBytes(bytes));
  return parts.join(' · ');
}

function headerCell(key: SortKey, sort: ListingSort, className: string): string {
  const active = sort.key === key;
  const ariaSort = active
    ? ` aria-sort="${sort.order === 'asc' ? 'ascending' : 'descending'}"`
    : '';
  return `<th scope="col" class="${className}"${ariaSort}><button type="button" data-sort="${key}">${SORT_LABEL[key]}${icon('sort', 'sort-icon')}</button></th>`;
}

function row(entry: ListingEntry): string {
  const href = escapeHtml(entryHref(entry));
  const name = escapeHtml(entry.name);
  const category = fileCategory(entry);
  const isDir = entry.kind === 'directory';
  const preview = previewFor(entry);
  let media = '';
  if (preview === 'audio') {
    media = `<audio class="player" controls preload="metadata" src="${href}" aria-label="Play ${name}"></audio>`;
  } else if (preview === 'video') {
    media = `<video class="player" controls preload="metadata" playsinline src="${href}" aria-label="Play ${name}"></video>`;
  } else if (preview === 'image') {
    media = `<a class="thumb" href="${href}" tabindex="-1" aria-hidden="true"><img src="${href}" alt="" loading="lazy" decoding="async"></a>`;
  }
  const size = isDir
    ? '<span aria-hidden="true">—</span><span class="sr">folder</span>'
    : `<span title="${entry.size ?? 0} bytes">${formatBytes(entry.size ?? 0)}</span>`;
  const actions = isDir
    ? ''
    : `<a class="action" href="${href}" download aria-label="Download ${name}">${icon('download')}<span class="label">Download</span></a>` +
      `<button type="button" class="action copy" data-href="${href}" aria-label="Copy resume command for ${name}">${icon('copy')}<span class="label">Copy command</span></button>`;
  return (
    `<tr class="${isDir ? 'dir' : 'file'} cat-${category}" data-kind="${entry.kind}" data-name="${name}" data-size="${entry.size ?? 0}" data-mtime="${escapeHtml(entry.mtime ?? '')}">` +
    `<td class="name"><div class="entry">${icon(category, `icon cat`)}<a class="link" href="${href}">${name}</a></div>${media}</td>` +
    `<td class="kind">${escapeHtml(kindLabel(entry))}</td>` +
    `<td class="size">${size}</td>` +
    (entry.mtime === null
      ? '<td class="mtime"></td>'
      : `<td class="mtime"><time datetime="${escapeHtml(entry.mtime)}">${escapeHtml(formatMtime(entry.mtime))}</time></td>`) +
    `<td class="actions">${actions}</td>` +
    '</tr>'
  );
}

/** An upload arrow (after Feather, MIT), inline: the sprite stays as it is without uploads. */
const UPLOAD_ICON =
  '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 16V4M7 9l5-5 5 5M4 20h16"/></svg>';

/**
 * The upload control, hidden until the page's script shows it (it does nothing without one). The
 * tus endpoint is given relative to the page, so it works under any mount prefix; the folder is
 * the path below the served root that the files go to (`music/live/`, empty at the root).
 */
export function uploadControl(segments: readonly string[]): string {
  const depth = segments.length;
  const endpoint = `${depth === 0 ? './' : '../'.repeat(depth)}.uploads/`;
  const folder = segments.map((s) => `${s}/`).join('');
  const where = escapeHtml(folderPath(segments));
  return (
    `<section class="uploader" aria-labelledby="upload-title" data-endpoint="${escapeHtml(endpoint)}" data-folder="${escapeHtml(folder)}" hidden>` +
    `<h2 id="upload-title" class="sr">Upload to ${where}</h2>` +
    '<div class="drop" data-drop>' +
    `<input id="upload-files" class="sr" type="file" multiple data-files>` +
    `<label for="upload-files" class="action pick">${UPLOAD_ICON}<span>Choose files</span></label>` +
    `<span class="hint">or drop them here to upload to <span class="path">${where}</span></span>` +
    '</div>' +
    '<form class="token" data-token-form hidden>' +
    '<label for="upload-token">Upload token</label>' +
    '<input id="upload-token" type="password" autocomplete="off" spellcheck="false" data-token>' +
    '<button type="submit" class="action">Use token</button>' +
    '</form>' +
    '<ul class="uploads" data-rows></ul>' +
    '</section>'
  );
}

// Made on first use, like the listing order's collator (ICU data costs memory).
let numberFormat: Intl.NumberFormat | undefined;
const count = {
  format: (n: number): string => {
    numberFormat ??= new Intl.NumberFormat('en');
    return numberFormat.format(n);
  },
};

/** The pager under a listing of several pages: where this page is, and links to its neighbours. */
function pager(p: Pagination, sort: ListingSort, label: string): string {
  if (p.pages <= 1 && !p.truncated) return '';
  const first = p.total === 0 ? 0 : (p.page - 1) * p.perPage + 1;
  const last = Math.min(p.page * p.perPage, p.total);
  const link = (page: number, label: string, rel: string) =>
    `<a href="${escapeHtml(pageQuery(sort, page))}" rel="${rel}">${label}</a>`;
  const links = [
    p.page > 1 ? link(1, 'First', 'first') : '',
    p.page > 1 ? link(p.page - 1, '← Previous', 'prev') : '',
    `<span class="where">Page ${count.format(p.page)} of ${count.format(p.pages)}</span>`,
    p.page < p.pages ? link(p.page + 1, 'Next →', 'next') : '',
    p.page < p.pages ? link(p.pages, 'Last', 'last') : '',
  ].filter((l) => l !== '');
  const more = p.truncated
    ? ` The folder holds more; only the first ${count.format(p.total)} entries read are listed.`
    : '';
  return `<nav class="pager" aria-label="${label}"><p>Showing ${count.format(first)}–${count.format(last)} of ${count.format(p.total)} entries.${more}</p><p class="links">${links.join(' ')}</p></nav>`;
}

/** The whole HTML page for a folder. Every name is escaped; every link is encoded per segment. */
export function renderListingHtml(page: ListingPage): string {
  const totals = page.pagination ?? paginate(page.entries, 1, Number.MAX_SAFE_INTEGER).pagination;
  const pages = (label: string) =>
    page.pagination === undefined ? '' : pager(page.pagination, page.sort, label);
  const path = escapeHtml(folderPath(page.segments));
  const upRow =
    page.segments.length === 0
      ? ''
      : `<tbody class="up"><tr><td colspan="5"><a class="link" href="../">${icon('up')}Parent folder</a></td></tr></tbody>`;
  const empty =
    page.entries.length === 0
      ? '<tr class="empty"><td colspan="5">This folder is empty.</td></tr>'
      : '';
  const order = page.sort.order === 'asc' ? 'ascending' : 'descending';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Index of ${path}</title>
<link rel="icon" href="${FAVICON}">
<style>${page.css}</style>
</head>
<body>
${iconSprite()}
<header class="top">
${breadcrumb(page.segments)}
<h1>Index of <span class="path">${path}</span></h1>
<p class="summary">${summary(totals)}</p>
${pages('Pages')}
</header>
<main>
${page.uploads === true ? uploadControl(page.segments) : ''}
<table class="listing" data-pages="${totals.pages}">
<caption class="sr">Contents of ${path}, sorted by <span data-caption>${SORT_LABEL[page.sort.key].toLowerCase()}, ${order}</span></caption>
<thead><tr>${headerCell('name', page.sort, 'name')}<th scope="col" class="kind">Kind</th>${headerCell('size', page.sort, 'size')}${headerCell('mtime', page.sort, 'mtime')}<th scope="col" class="actions"><span class="sr">Actions</span></th></tr></thead>
${upRow}<tbody class="entries">
${page.entries.map(row).join('\n')}${empty}
</tbody>
</table>
${pages('Pages, end of the list')}
</main>
<footer class="foot">Served by ranged · interrupted downloads resume with <code>ranged get</code></footer>
<div class="toast" role="status" aria-live="polite"></div>
<script>${page.script}</script>
</body>
</html>
`;
}
