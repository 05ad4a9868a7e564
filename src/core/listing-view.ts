/**
 * The folder listing as values: sorting, human sizes, per-segment link encoding, file-type hints,
 * content negotiation, and the HTML and JSON documents. Pure: the shell (server/listing.ts) reads
 * the folder and passes in the entries and the inline assets.
 */
import { formatBytes } from './format-bytes.js';

export interface ListingEntry {
  name: string;
  /** `directory` or `file`. */
  kind: 'directory' | 'file';
  /** Size in bytes; `null` for folders. */
  size: number | null;
  /** Modification time, ISO 8601 in UTC (`2024-05-01T12:34:56.789Z`). */
  mtime: string;
  /** Content-Type for files, `inode/directory` for folders. */
  type: string;
  /** The strong ETag the file is served with; `null` for folders. */
  etag: string | null;
  /**
   * The name's exact bytes, when they are not valid UTF-8 (`name` then shows U+FFFD where bytes
   * could not be read); links are made from these bytes.
   */
  bytes?: Uint8Array;
}

export type SortKey = 'name' | 'size' | 'mtime';
export type SortOrder = 'asc' | 'desc';
export interface ListingSort {
  key: SortKey;
  order: SortOrder;
}

/** The order a listing starts in. */
export const DEFAULT_SORT: ListingSort = { key: 'name', order: 'asc' };

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

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Compares names as people expect (`2.txt` before `10.txt`, case-insensitive), then exactly. */
export function compareNames(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Sorts entries: folders always first, then by `sort.key` in `sort.order`, ties by name. Folders
 * have no size, so a size sort orders them by name. Returns a new array.
 */
export function sortEntries(
  entries: readonly ListingEntry[],
  sort: ListingSort = DEFAULT_SORT,
): ListingEntry[] {
  return [...entries].sort(compareEntries(sort));
}

/** The comparator behind `sortEntries()`: folders first, then `sort.key`, ties by name. */
export function compareEntries(sort: ListingSort): (a: ListingEntry, b: ListingEntry) => number {
  const sign = sort.order === 'asc' ? 1 : -1;
  return (a, b) => {
    if (a.kind !== b.kind) return a.kind === 'directory' ? -1 : 1;
    let by = 0;
    if (sort.key === 'size') by = (a.size ?? 0) - (b.size ?? 0);
    else if (sort.key === 'mtime') by = a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : 0;
    return sign * (by || compareNames(a.name, b.name));
  };
}

/** A modification time as `2024-05-01 12:34 UTC` (the page shows local time when scripts run). */
export function formatMtime(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : iso;
}

/**
 * Percent-encodes one path segment (RFC 3986 §3.3): everything but unreserved characters, so `#`,
 * `?`, `%`, `;`, `:` and the quotes `encodeURIComponent` leaves (`!'()*`) cannot end the path,
 * start a query or fragment, read as a scheme, or break out of a shell word.
 */
export function encodePathSegment(name: string | Uint8Array): string {
  if (typeof name !== 'string') {
    let out = '';
    for (const byte of name) {
      out += UNRESERVED.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  }
  return encodeURIComponent(name).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** The link to an entry, relative to its folder's URL (folders end in `/`). */
export function entryHref(entry: Pick<ListingEntry, 'name' | 'kind' | 'bytes'>): string {
  return encodePathSegment(entry.bytes ?? entry.name) + (entry.kind === 'directory' ? '/' : '');
}

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

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export type FileCategory =
  | 'folder'
  | 'audio'
  | 'video'
  | 'image'
  | 'text'
  | 'code'
  | 'archive'
  | 'document'
  | 'file';

/** Media types browsers play or show inline; others of the same family get no player. */
const PLAYABLE_AUDIO = /^audio\/(mpeg|mp3|wav|x-wav|wave|ogg|opus|flac|x-flac|aac|mp4|x-m4a|webm)$/;
const PLAYABLE_VIDEO = /^video\/(mp4|webm|ogg)$/;
const SHOWABLE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|svg\+xml|bmp|x-icon|vnd\.microsoft\.icon)$/;
const ARCHIVE =
  /^application\/(zip|gzip|x-gzip|x-tar|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|zstd|x-iso9660-image|x-debian-package|x-apple-diskimage|java-archive)$/;
const CODE =
  /^(application\/(json|xml|javascript|x-sh|x-python|wasm|toml|yaml)|text\/(javascript|css|html|xml|x-python|x-c|x-java-source|x-shellscript))$/;
const DOCUMENT =
  /^application\/(pdf|msword|rtf|epub\+zip|vnd\.(oasis\.opendocument|openxmlformats-officedocument|ms-)[^;]*)$/;

function essence(type: string): string {
  return (type.split(';')[0] ?? '').trim().toLowerCase();
}

/** A broad category for an entry's icon and hint. */
export function fileCategory(entry: Pick<ListingEntry, 'kind' | 'type'>): FileCategory {
  if (entry.kind === 'directory') return 'folder';
  const type = essence(entry.type);
  if (ARCHIVE.test(type)) return 'archive';
  if (CODE.test(type)) return 'code';
  if (DOCUMENT.test(type)) return 'document';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('text/')) return 'text';
  return 'file';
}

/** The inline preview an entry gets on the page, if any. */
export function previewFor(
  entry: Pick<ListingEntry, 'kind' | 'type'>,
): 'audio' | 'video' | 'image' | null {
  if (entry.kind === 'directory') return null;
  const type = essence(entry.type);
  if (PLAYABLE_AUDIO.test(type)) return 'audio';
  if (PLAYABLE_VIDEO.test(type)) return 'video';
  if (SHOWABLE_IMAGE.test(type)) return 'image';
  return null;
}

const CATEGORY_NOUN: Record<FileCategory, string> = {
  folder: 'Folder',
  audio: 'audio',
  video: 'video',
  image: 'image',
  text: 'text',
  code: 'source',
  archive: 'archive',
  document: 'document',
  file: 'file',
};

/** A short kind for people: `Folder`, `WAV audio`, `PNG image`, `ZIP archive`, `File`. */
export function kindLabel(entry: Pick<ListingEntry, 'name' | 'kind' | 'type'>): string {
  const category = fileCategory(entry);
  if (category === 'folder') return 'Folder';
  const dot = entry.name.lastIndexOf('.');
  const ext = dot > 0 ? entry.name.slice(dot + 1) : '';
  const noun = CATEGORY_NOUN[category];
  if (/^[A-Za-z0-9]{1,5}$/.test(ext)) return `${ext.toUpperCase()} ${noun}`;
  return noun === 'file' ? 'File' : noun[0]?.toUpperCase() + noun.slice(1);
}

/**
 * True when an Accept header (RFC 9110 §12.5.1) ranks `application/json` above `text/html`. A
 * browser's `text/html,…,*\/*;q=0.8` gets HTML; `application/json` and `application/json, *\/*` get
 * JSON; a tie with `text/html` named goes to HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let json = 0;
  let html = 0;
  let htmlSpecific = -1; // specificity of the range that set `html`: */* 0, text/* 1, text/html 2
  let jsonSpecific = -1;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      const m = /^q=([01](\.\d{0,3})?)$/.exec(p);
      if (m?.[1] !== undefined) q = Number(m[1]);
    }
    // §12.5.1: the most specific matching range decides the quality of a type.
    const forJson =
      range === 'application/json' ? 2 : range === 'application/*' ? 1 : range === '*/*' ? 0 : -1;
    const forHtml = range === 'text/html' ? 2 : range === 'text/*' ? 1 : range === '*/*' ? 0 : -1;
    if (forJson > jsonSpecific) [json, jsonSpecific] = [q, forJson];
    if (forHtml > htmlSpecific) [html, htmlSpecific] = [q, forHtml];
  }
  // A tie goes to JSON only when HTML was not named (`application/json, */*` from a script).
  return jsonSpecific === 2 && json > 0 && (json > html || (json === html && htmlSpecific < 2));
}

/** The folder's URL path for display and JSON (`/`, `/music/live/`), from decoded segments. */
export function folderPath(segments: readonly string[]): string {
  return `/${segments.map((s) => `${s}/`).join('')}`;
}

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
}

const SORT_LABEL: Record<SortKey, string> = { name: 'Name', size: 'Size', mtime: 'Modified' };

/** Icons after Feather (MIT): 24×24 strokes, referenced with <use>. */
const ICONS: Record<FileCategory | 'up' | 'download' | 'copy' | 'sort', string> = {
  folder:
    '<path d="M3 6.5A1.5 1.5 0 0 1 4.5 5H9l2 2.5h8.5A1.5 1.5 0 0 1 21 9v9.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z"/>',
  file: '<path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z"/><path d="M14 3v5h5"/>',
  text: '<path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z"/><path d="M14 3v5h5M8.5 13h7M8.5 16.5h7"/>',
  document:
    '<path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z"/><path d="M14 3v5h5M8.5 12h3M8.5 15.5h7M8.5 18h5"/>',
  code: '<path d="m16 18 6-6-6-6M8 6l-6 6 6 6"/>',
  audio: '<path d="M9 18V5l12-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="18" cy="16" r="3"/>',
  video: '<rect x="2" y="5" width="14" height="14" rx="2"/><path d="m16 10 6-3.5v11L16 14"/>',
  image:
    '<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="8.5" cy="8.5" r="1.5"/><path d="m21 15-5-5L5 21"/>',
  archive:
    '<rect x="2" y="3" width="20" height="5" rx="1"/><path d="M4 8v11.5A1.5 1.5 0 0 0 5.5 21h13a1.5 1.5 0 0 0 1.5-1.5V8M10 12h4"/>',
  up: '<path d="M9 14 4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11"/>',
  download: '<path d="M12 3v12M7 10l5 5 5-5M4 21h16"/>',
  copy: '<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H4.5A1.5 1.5 0 0 1 3 13.5v-9A1.5 1.5 0 0 1 4.5 3h9A1.5 1.5 0 0 1 15 4.5V5"/>',
  sort: '<path d="m7 15 5 5 5-5M7 9l5-5 5 5"/>',
};

function icon(name: keyof typeof ICONS, className = 'icon'): string {
  return `<svg class="${className}" aria-hidden="true" focusable="false"><use href="#i-${name}"/></svg>`;
}

function iconSprite(): string {
  const symbols = Object.entries(ICONS)
    .map(([name, body]) => `<symbol id="i-${name}" viewBox="0 0 24 24">${body}</symbol>`)
    .join('');
  return `<svg class="sprite" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round">${symbols}</svg>`;
}

/** The favicon: the ranged mark as a data: URL, so no /favicon.ico request goes astray. */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232563eb'/%3E%3Cpath d='M8 11h16M8 16h10M8 21h13' stroke='white' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E";

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
    `<tr class="${isDir ? 'dir' : 'file'} cat-${category}" data-kind="${entry.kind}" data-name="${name}" data-size="${entry.size ?? 0}" data-mtime="${escapeHtml(entry.mtime)}">` +
    `<td class="name"><div class="entry">${icon(category, `icon cat`)}<a class="link" href="${href}">${name}</a></div>${media}</td>` +
    `<td class="kind">${escapeHtml(kindLabel(entry))}</td>` +
    `<td class="size">${size}</td>` +
    `<td class="mtime"><time datetime="${escapeHtml(entry.mtime)}">${escapeHtml(formatMtime(entry.mtime))}</time></td>` +
    `<td class="actions">${actions}</td>` +
    '</tr>'
  );
}

const count = new Intl.NumberFormat('en');

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
