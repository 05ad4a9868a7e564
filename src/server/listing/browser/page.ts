/**
 * The listing page's script, run in the browser: local times, sorting by a click on a column
 * header, the "Copy command" button, and the upload control when the server takes uploads
 * (uploader.ts). Compiled with DOM types (tsconfig.browser.json), bundled
 * with the model modules it imports (scripts/bundle-browser.ts) and inlined into the page, whose
 * Content-Security-Policy allows exactly that text by its hash. The page works without it.
 */
import { decodePathSegment } from '../entry.js';
import { compareEntries, type ListingSort, type SortFacts, type SortKey } from '../order.js';
import { startUploader } from './uploader.js';

const LABELS: Record<SortKey, string> = { name: 'name', size: 'size', mtime: 'modified' };

function isSortKey(key: string | undefined): key is SortKey {
  return key === 'name' || key === 'size' || key === 'mtime';
}

/** The facts the server sorted a row by, read back from the row (its data-* and its link). */
function factsOf(row: HTMLTableRowElement): SortFacts {
  const kind = row.dataset.kind === 'directory' ? 'directory' : 'file';
  const href = row.querySelector('a.link')?.getAttribute('href') ?? '';
  return {
    name: row.dataset.name ?? '',
    kind,
    size: kind === 'directory' ? null : Number(row.dataset.size),
    mtime: row.dataset.mtime ?? '',
    // The link is the name's exact bytes, percent-encoded (a folder's ends in a slash).
    bytes: decodePathSegment(href.replace(/\/$/, '')),
  };
}

function localTimes(): void {
  // The server writes UTC; show the reader's local time, keep the exact one in a tooltip.
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const time of document.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    const date = new Date(time.dateTime);
    if (Number.isNaN(date.getTime())) continue;
    time.title = time.dateTime;
    time.textContent = when.format(date);
  }
}

function sorting(table: HTMLTableElement, body: HTMLTableSectionElement): void {
  // Folders stay first: the same order as the server's ?sort=KEY&order=asc|desc.
  const sortBy = (sort: ListingSort) => {
    const rows = Array.from(body.querySelectorAll<HTMLTableRowElement>('tr[data-kind]'));
    const facts = new Map(rows.map((row) => [row, factsOf(row)] as const));
    const compare = compareEntries(sort);
    rows.sort((a, b) => compare(facts.get(a) as SortFacts, facts.get(b) as SortFacts));
    body.append(...rows);
    const order = sort.order === 'asc' ? 'ascending' : 'descending';
    for (const th of table.querySelectorAll('thead th')) {
      const button = th.querySelector<HTMLButtonElement>('button[data-sort]');
      if (button?.dataset.sort === sort.key) th.setAttribute('aria-sort', order);
      else th.removeAttribute('aria-sort');
    }
    const caption = table.querySelector('[data-caption]');
    if (caption) caption.textContent = `${LABELS[sort.key]}, ${order}`;
    const url = new URL(location.href);
    url.searchParams.set('sort', sort.key);
    url.searchParams.set('order', sort.order);
    history.replaceState(null, '', url);
  };
  for (const button of table.querySelectorAll<HTMLButtonElement>('th button[data-sort]')) {
    button.addEventListener('click', () => {
      const key = button.dataset.sort;
      if (!isSortKey(key)) return;
      const current = button.closest('th')?.getAttribute('aria-sort');
      const order = current === 'ascending' ? 'desc' : 'asc';
      // A listing of several pages is sorted by the server, across every page.
      if (Number(table.dataset.pages) > 1) {
        location.search = `?sort=${key}&order=${order}`;
        return;
      }
      sortBy({ key, order });
    });
  }
}

/** A word for a POSIX shell: as it is when it needs no quoting, else in single quotes. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_\-.~/:%@+=,]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Copies with a hidden textarea, for pages without the Clipboard API (plain http: off localhost). */
function legacyCopy(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'sr';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

function copyButtons(body: HTMLTableSectionElement, toast: HTMLElement): void {
  // "Copy command": ranged get <absolute URL>, quoted for a POSIX shell when it needs to be.
  let hide = 0;
  const show = (message: string, command: string, ok: boolean) => {
    toast.replaceChildren(document.createTextNode(message));
    if (!ok) {
      const code = document.createElement('code');
      code.textContent = command;
      toast.append(code);
    }
    toast.classList.add('show');
    clearTimeout(hide);
    hide = setTimeout(() => toast.classList.remove('show'), ok ? 2500 : 10000);
  };
  body.addEventListener('click', async (event) => {
    const button =
      event.target instanceof Element
        ? event.target.closest<HTMLButtonElement>('button.copy')
        : null;
    if (!button) return;
    const command = `ranged get ${shellQuote(new URL(button.dataset.href ?? '', location.href).href)}`;
    let ok = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(command);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) ok = legacyCopy(command);
    const label = button.querySelector('.label');
    if (ok) {
      button.classList.add('done');
      if (label) label.textContent = 'Copied';
      setTimeout(() => {
        button.classList.remove('done');
        if (label) label.textContent = 'Copy command';
      }, 2500);
    }
    show(ok ? `Copied: ${command}` : 'Copy this command:', command, ok);
  });
}

/**
 * Fetches this page again and puts its rows and totals in place of the shown ones (after an
 * upload completes): the server renders rows, the page never builds them itself. Fetches that
 * overlap are run one after the other, and the last word wins.
 */
function refresher(table: HTMLTableElement, body: HTMLTableSectionElement): () => void {
  let queued: Promise<void> = Promise.resolve();
  return () => {
    queued = queued.then(async () => {
      try {
        const response = await fetch(location.href, {
          headers: { Accept: 'text/html' },
          cache: 'no-store',
        });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
        const rows = fresh.querySelector('table.listing tbody.entries');
        if (!rows) return;
        body.replaceChildren(...Array.from(rows.childNodes));
        const pages = fresh.querySelector<HTMLTableElement>('table.listing')?.dataset.pages;
        if (pages !== undefined) table.dataset.pages = pages;
        const summary = document.querySelector('.summary');
        const freshSummary = fresh.querySelector('.summary');
        if (summary && freshSummary) summary.textContent = freshSummary.textContent;
        localTimes();
      } catch {
        // The listing stays as it was; a reload shows the file.
      }
    });
  };
}

const table = document.querySelector<HTMLTableElement>('table.listing');
const body = table?.querySelector<HTMLTableSectionElement>('tbody.entries');
const toast = document.querySelector<HTMLElement>('.toast');
if (table && body && toast) {
  localTimes();
  sorting(table, body);
  copyButtons(body, toast);
  const uploader = document.querySelector<HTMLElement>('section.uploader');
  if (uploader) startUploader(uploader, refresher(table, body));
}
