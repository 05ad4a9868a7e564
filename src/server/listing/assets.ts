/**
 * The listing page's stylesheet and script, and the Content-Security-Policy that allows exactly
 * them. Both are inlined into the page, so ranged serves every byte the page needs (no CDN), and
 * the policy names the two texts by their SHA-256 hashes: no nonce, no randomness, and an
 * injected <script> cannot run.
 */
import { createHash } from 'node:crypto';
import { LISTING_CSS } from './style.js';

export const LISTING_SCRIPT = `
(() => {
  'use strict';
  const table = document.querySelector('table.listing');
  const body = table && table.querySelector('tbody.entries');
  const toast = document.querySelector('.toast');
  if (!table || !body || !toast) return;

  // Times: the server writes UTC; show the reader's local time, keep the exact one in a tooltip.
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const time of document.querySelectorAll('time[datetime]')) {
    const date = new Date(time.dateTime);
    if (Number.isNaN(date.getTime())) continue;
    time.title = time.dateTime;
    time.textContent = when.format(date);
  }

  // Sorting: folders stay first; the same order as the server's ?sort=KEY&order=asc|desc.
  const names = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  const byName = (a, b) => names.compare(a.dataset.name, b.dataset.name) ||
    (a.dataset.name < b.dataset.name ? -1 : a.dataset.name > b.dataset.name ? 1 : 0);
  const by = {
    name: byName,
    size: (a, b) => Number(a.dataset.size) - Number(b.dataset.size) || byName(a, b),
    mtime: (a, b) => (a.dataset.mtime < b.dataset.mtime ? -1 : a.dataset.mtime > b.dataset.mtime ? 1 : 0) || byName(a, b),
  };
  const labels = { name: 'name', size: 'size', mtime: 'modified' };
  const sortBy = (key, order) => {
    const sign = order === 'asc' ? 1 : -1;
    const rows = Array.from(body.querySelectorAll('tr[data-kind]'));
    rows.sort((a, b) => {
      if (a.dataset.kind !== b.dataset.kind) return a.dataset.kind === 'directory' ? -1 : 1;
      return sign * by[key](a, b);
    });
    body.append(...rows);
    for (const th of table.querySelectorAll('thead th')) {
      const button = th.querySelector('button[data-sort]');
      if (button && button.dataset.sort === key) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    const caption = table.querySelector('[data-caption]');
    if (caption) caption.textContent = labels[key] + ', ' + (order === 'asc' ? 'ascending' : 'descending');
    const url = new URL(location.href);
    url.searchParams.set('sort', key);
    url.searchParams.set('order', order);
    history.replaceState(null, '', url);
  };
  for (const button of table.querySelectorAll('th button[data-sort]')) {
    button.addEventListener('click', () => {
      const key = button.dataset.sort;
      const current = button.closest('th').getAttribute('aria-sort');
      const order = current === 'ascending' ? 'desc' : 'asc';
      // A listing of several pages is sorted by the server, across every page.
      if (Number(table.dataset.pages) > 1) {
        location.search = '?sort=' + key + '&order=' + order;
        return;
      }
      sortBy(key, order);
    });
  }

  // "Copy command": ranged get <absolute URL>, quoted for a POSIX shell when it needs to be.
  const shellQuote = (text) => /^[A-Za-z0-9_\\-.~\\/:%@+=,]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\\\''") + "'";
  let hide = 0;
  const show = (message, command, ok) => {
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
  const legacyCopy = (text) => {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'sr';
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
    return ok;
  };
  body.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button.copy') : null;
    if (!button) return;
    const command = 'ranged get ' + shellQuote(new URL(button.dataset.href, location.href).href);
    let ok = false;
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(command); ok = true; } catch { ok = false; }
    }
    if (!ok) ok = legacyCopy(command);
    const label = button.querySelector('.label');
    if (ok) {
      button.classList.add('done');
      if (label) label.textContent = 'Copied';
      setTimeout(() => { button.classList.remove('done'); if (label) label.textContent = 'Copy command'; }, 2500);
    }
    show(ok ? 'Copied: ' + command : 'Copy this command:', command, ok);
  });
})();
`;

export interface ListingAssets {
  /** Stylesheet text for the page's <style> element. */
  css: string;
  /** Script text for the page's <script> element. */
  script: string;
  /** The Content-Security-Policy header value for the page. */
  csp: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

let assets: ListingAssets | undefined;

/** The page's stylesheet, script and CSP (hashed on the first call). */
export function listingAssets(): ListingAssets {
  if (assets !== undefined) return assets;
  const script = LISTING_SCRIPT;
  // Nothing loads or runs but the inline stylesheet and script (by hash), same-origin media and
  // images, and data: images (the favicon).
  const csp = [
    "default-src 'none'",
    `style-src ${sha256(LISTING_CSS)}`,
    `script-src ${sha256(script)}`,
    "img-src 'self' data:",
    "media-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  assets = { css: LISTING_CSS, script, csp };
  return assets;
}
