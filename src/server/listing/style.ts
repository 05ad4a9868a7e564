/**
 * The listing page's stylesheet, inlined into the page (ranged serves every byte the page needs;
 * the Content-Security-Policy allows exactly this text by its hash, see assets.ts). Pure.
 */

export const LISTING_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --fg: #16181d; --muted: #646b78; --line: #e4e7ec;
  --hover: #f2f4f7; --accent: #2457d6; --accent-soft: #e8eefc; --ok: #16794c; --err: #b42318;
  --c-folder: #d9930d; --c-audio: #7c4ddb; --c-video: #d6336c; --c-image: #0f8f6a;
  --c-archive: #a35a14; --c-code: #0b7fc0; --c-text: #5b6472; --c-file: #8a93a3;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1014; --card: #161920; --fg: #e7e9ee; --muted: #98a0ae; --line: #272b34;
    --hover: #1d2129; --accent: #7aa7ff; --accent-soft: #1c2740; --ok: #4fd197; --err: #ff8f7a;
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
.uploader { margin: 0 0 1rem; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: .75rem; }
.drop { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem .75rem; padding: .75rem;
  border: 1.5px dashed var(--line); border-radius: 10px; }
.drop.over { border-color: var(--accent); background: var(--accent-soft); }
.drop .pick { margin-left: 0; font-size: .875rem; }
#upload-files:focus-visible + .pick { outline: 2px solid var(--accent); outline-offset: 2px; }
.hint { color: var(--muted); font-size: .875rem; min-width: 0; overflow-wrap: anywhere; }
.token { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-top: .75rem; font-size: .875rem; }
.token[hidden] { display: none; }
.token input { font: inherit; flex: 1 1 10rem; min-width: 0; max-width: 20rem; padding: .3rem .5rem;
  border: 1px solid var(--line); border-radius: 7px; background: var(--bg); color: var(--fg); }
.token .action { margin-left: 0; }
.uploads { list-style: none; margin: 0; padding: 0; }
.uploads li { display: grid; grid-template-columns: minmax(0, 1fr) auto; align-items: center; gap: .35rem .75rem;
  margin-top: .75rem; padding-top: .75rem; border-top: 1px solid var(--line); }
.uploads .name { font-weight: 500; overflow-wrap: anywhere; min-width: 0; }
.uploads .buttons { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: .35rem; }
.uploads .buttons .action { margin-left: 0; }
.uploads .buttons [hidden] { display: none; }
.uploads progress { grid-column: 1 / -1; width: 100%; height: .5rem; accent-color: var(--accent); }
.uploads .status { grid-column: 1 / -1; color: var(--muted); font-size: .8125rem; overflow-wrap: anywhere; }
.uploads .status.error { color: var(--err); font-weight: 500; }
.uploads li[data-state="done"] .status { color: var(--ok); }
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
