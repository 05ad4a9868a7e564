/**
 * The listing page's stylesheet and script. Both are inlined into the page, so ranged serves every
 * byte the page needs (no CDN), and the Content-Security-Policy allows exactly these two texts by
 * their SHA-256 hashes: no nonce, no randomness, and an injected <script> cannot run.
 */
import { createHash } from 'node:crypto';

export const LISTING_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --fg: #16181d; --muted: #646b78; --line: #e4e7ec;
  --hover: #f2f4f7; --accent: #2457d6; --accent-soft: #e8eefc; --ok: #16794c;
  --c-folder: #d9930d; --c-audio: #7c4ddb; --c-video: #d6336c; --c-image: #0f8f6a;
  --c-archive: #a35a14; --c-code: #0b7fc0; --c-text: #5b6472; --c-file: #8a93a3;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1014; --card: #161920; --fg: #e7e9ee; --muted: #98a0ae; --line: #272b34;
    --hover: #1d2129; --accent: #7aa7ff; --accent-soft: #1c2740; --ok: #4fd197;
    --c-folder: #f0b84a; --c-audio: #a98bff; --c-video: #ff7aa8; --c-image: #4fd1a5;
    --c-archive: #e0a060; --c-code: #5cc2ff; --c-text: #a3acba; --c-file: #8a93a3;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; text-underline-offset: 2px; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 4px; }
.sprite { display: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.top, main, .foot { max-width: 72rem; margin: 0 auto; padding: 0 1.5rem; }
.top { padding-top: 1.75rem; padding-bottom: 1rem; }
.crumbs ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem; font-size: .875rem; }
.crumbs li:not(:last-child)::after { content: "/"; color: var(--muted); margin-left: .25rem; }
.crumbs a[aria-current] { color: var(--fg); font-weight: 600; }
h1 { font-size: 1.5rem; line-height: 1.25; font-weight: 650; letter-spacing: -.01em; margin: .5rem 0 .25rem; overflow-wrap: anywhere; }
h1 .path { font-weight: 650; }
.summary { margin: 0; color: var(--muted); font-size: .875rem; }
.pager { margin: 1rem 0; color: var(--muted); font-size: .875rem; }
.pager p { margin: .25rem 0; }
.pager .links { display: flex; flex-wrap: wrap; gap: .75rem; align-items: baseline; }
table.listing { width: 100%; border-collapse: separate; border-spacing: 0; background: var(--card);
  border: 1px solid var(--line); border-radius: 12px; overflow: hidden; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .6rem .9rem; border-bottom: 1px solid var(--line); vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
tbody.up tr td { border-bottom: 1px solid var(--line); }
thead th { font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .05em;
  color: var(--muted); background: var(--card); padding-top: .7rem; padding-bottom: .7rem; white-space: nowrap; }
th button { font: inherit; text-transform: inherit; letter-spacing: inherit; color: inherit; background: none;
  border: 0; padding: .15rem .3rem; margin: -.15rem -.3rem; border-radius: 6px; cursor: pointer;
  display: inline-flex; align-items: center; gap: .3rem; }
th button:hover { color: var(--fg); background: var(--hover); }
th[aria-sort] button { color: var(--fg); }
.sort-icon { width: 14px; height: 14px; opacity: .35; }
th[aria-sort] .sort-icon { opacity: 1; }
th[aria-sort="ascending"] .sort-icon { clip-path: inset(0 0 50% 0); transform: translateY(3px); }
th[aria-sort="descending"] .sort-icon { clip-path: inset(50% 0 0 0); transform: translateY(-3px); }
th.size, td.size { text-align: right; }
th.size button { flex-direction: row-reverse; }
tbody tr:hover td { background: var(--hover); }
td.name { width: 100%; min-width: 12rem; }
.entry { display: flex; align-items: center; gap: .6rem; min-height: 1.6rem; }
.entry .link { color: var(--fg); font-weight: 500; overflow-wrap: anywhere; }
tr.dir .entry .link { font-weight: 600; }
.icon, .sort-icon { fill: none; stroke: currentColor; stroke-width: 1.75; stroke-linecap: round; stroke-linejoin: round; }
.icon { width: 20px; height: 20px; flex: none; }
.cat { color: var(--c-file); }
.cat-folder .cat { color: var(--c-folder); } .cat-audio .cat { color: var(--c-audio); }
.cat-video .cat { color: var(--c-video); } .cat-image .cat { color: var(--c-image); }
.cat-archive .cat { color: var(--c-archive); } .cat-code .cat { color: var(--c-code); }
.cat-text .cat, .cat-document .cat { color: var(--c-text); }
tbody.up .link { display: inline-flex; align-items: center; gap: .6rem; color: var(--muted); font-weight: 500; }
td.kind, td.mtime, td.size { color: var(--muted); white-space: nowrap; font-size: .875rem; padding-top: .72rem; }
td.size { color: var(--fg); }
audio.player { display: block; width: 100%; max-width: 26rem; height: 2.5rem; margin: .5rem 0 .1rem 1.85rem; }
video.player { display: block; max-width: min(100% - 1.85rem, 32rem); max-height: 18rem; margin: .5rem 0 .1rem 1.85rem;
  border-radius: 8px; background: #000; }
.thumb { display: inline-block; margin: .5rem 0 .1rem 1.85rem; }
.thumb img { display: block; max-height: 6rem; max-width: 10rem; border-radius: 6px; border: 1px solid var(--line);
  background: repeating-conic-gradient(var(--hover) 0 25%, transparent 0 50%) 0 0 / 12px 12px; }
td.actions { white-space: nowrap; text-align: right; padding-top: .45rem; }
.action { font: inherit; font-size: .8125rem; display: inline-flex; align-items: center; gap: .35rem;
  padding: .3rem .6rem; border-radius: 7px; border: 1px solid var(--line); background: var(--card);
  color: var(--fg); cursor: pointer; margin-left: .35rem; text-decoration: none; }
.action:hover { background: var(--hover); text-decoration: none; }
.action .icon { width: 16px; height: 16px; }
.action.done { color: var(--ok); border-color: currentColor; }
tr.empty td { color: var(--muted); text-align: center; padding: 2.5rem; }
.foot { color: var(--muted); font-size: .8125rem; padding-top: 1rem; padding-bottom: 2rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.toast { position: fixed; left: 50%; bottom: 1.25rem; transform: translate(-50%, 1rem); max-width: min(40rem, calc(100% - 2rem));
  background: var(--fg); color: var(--bg); padding: .6rem .9rem; border-radius: 10px; font-size: .875rem;
  box-shadow: 0 6px 24px rgb(0 0 0 / .2); opacity: 0; pointer-events: none; transition: opacity .15s, transform .15s; }
.toast.show { opacity: 1; transform: translate(-50%, 0); pointer-events: auto; }
.toast code { display: block; margin-top: .25rem; user-select: all; overflow-wrap: anywhere; }
@media (max-width: 56rem) {
  th.kind, td.kind { display: none; }
  .action .label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  .action { padding: .4rem; }
}
@media (max-width: 36rem) {
  .top, main, .foot { padding-left: .75rem; padding-right: .75rem; }
  .top { padding-top: 1rem; }
  h1 { font-size: 1.25rem; }
  table.listing, table.listing thead, table.listing tbody, table.listing tr, table.listing th, table.listing td { display: block; }
  table.listing thead tr { display: flex; gap: 1rem; border-bottom: 1px solid var(--line); padding: .55rem .8rem; }
  table.listing thead th { border: 0; padding: 0; }
  table.listing th.kind, table.listing td.kind, table.listing th.actions { display: none; }
  th.size button { flex-direction: row; }
  tbody.entries tr { display: grid; grid-template-columns: 6.6rem 1fr auto; grid-template-areas:
    "name name actions" "size mtime actions"; column-gap: .5rem; padding: .6rem .8rem; border-bottom: 1px solid var(--line); }
  tbody.entries tr:last-child { border-bottom: 0; }
  tbody.entries td { border: 0; padding: 0; }
  tbody.up td { padding: .6rem .8rem; }
  tbody.entries td.name { grid-area: name; min-width: 0; }
  tbody.entries td.size { grid-area: size; text-align: left; padding: .1rem 0 0 1.85rem; font-size: .8125rem; color: var(--muted); }
  tbody.entries td.mtime { grid-area: mtime; padding-top: .1rem; font-size: .8125rem; }
  tbody.entries td.actions { grid-area: actions; padding-top: 0; }
  tbody.entries tr.dir td.size { visibility: hidden; }
  audio.player, video.player, .thumb { margin-left: 0; }
  audio.player { max-width: 100%; }
  video.player { max-width: 100%; }
}
`;

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

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The listing page's Content-Security-Policy: nothing loads or runs but the inline stylesheet and
 * script above (by hash), same-origin media and images, and data: images (the favicon).
 */
export const LISTING_CSP = [
  "default-src 'none'",
  `style-src ${sha256(LISTING_CSS)}`,
  `script-src ${sha256(LISTING_SCRIPT)}`,
  "img-src 'self' data:",
  "media-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
