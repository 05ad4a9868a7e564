import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ListingEntry } from '../../src/server/listing/entry.js';
import { escapeHtml, formatMtime, renderListingHtml } from '../../src/server/listing/html.js';

test('formatMtime() shows minutes in UTC and passes anything else through', () => {
  assert.equal(formatMtime('2024-05-01T12:34:56.789Z'), '2024-05-01 12:34 UTC');
  assert.equal(formatMtime('yesterday'), 'yesterday');
});

test('escapeHtml() escapes the five metacharacters', () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
  );
});

function entry(
  name: string,
  kind: 'file' | 'directory',
  size: number,
  mtime: string,
): ListingEntry {
  return {
    name,
    kind,
    size: kind === 'file' ? size : null,
    mtime,
    type: kind === 'file' ? 'text/plain; charset=utf-8' : 'inode/directory',
    etag: kind === 'file' ? `"${name}"` : null,
  };
}
const hostile = entry('<img src=x onerror=alert(1)>.txt', 'file', 5, '2024-01-01T00:00:00.000Z');
const page = (segments: string[], list: ListingEntry[]) =>
  renderListingHtml({
    segments,
    entries: list,
    sort: { key: 'size', order: 'desc' },
    css: 'body{}',
    script: 'void 0',
  });

test('renderListingHtml() escapes names in text and attributes and encodes links per segment', () => {
  const html = page(
    ['a#b', '<dir>'],
    [hostile, entry('x?y%z.txt', 'file', 1, '2024-01-01T00:00:00.000Z')],
  );
  assert.doesNotMatch(html, /<img src=x/);
  assert.doesNotMatch(html, /<dir>/);
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;\.txt<\/a>/);
  assert.match(html, / href="%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E\.txt"/);
  assert.match(html, / href="x%3Fy%25z\.txt" download/);
  assert.match(html, /<title>Index of \/a#b\/&#60;dir&#62;\/<\/title>/);
  // The breadcrumb climbs with relative links, so the page also works mounted under a prefix.
  assert.match(html, /<a href="\.\.\/\.\.\/">Home<\/a>/);
  assert.match(html, /<a href="\.\.\/">a#b<\/a>/);
  assert.match(html, /<a href="\.\/" aria-current="page">&#60;dir&#62;<\/a>/);
  assert.match(html, /<a class="link" href="\.\.\/">/);
});

test('renderListingHtml() marks the sorted column and offers a button in every sortable header', () => {
  const html = page([], [hostile]);
  assert.match(
    html,
    /<th scope="col" class="size" aria-sort="descending"><button type="button" data-sort="size">/,
  );
  assert.equal(html.match(/aria-sort=/g)?.length, 1);
  assert.equal(html.match(/<button type="button" data-sort=/g)?.length, 3);
  assert.match(
    html,
    /<caption class="sr">Contents of \/, sorted by <span data-caption>size, descending/,
  );
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
});

test('renderListingHtml() gives audio and video a player, images a lazy preview, files a download and copy button', () => {
  const html = page(
    [],
    [
      { ...entry('tone.wav', 'file', 9, '2024-01-01T00:00:00.000Z'), type: 'audio/wav' },
      { ...entry('a b.mp4', 'file', 9, '2024-01-01T00:00:00.000Z'), type: 'video/mp4' },
      { ...entry('pic.png', 'file', 9, '2024-01-01T00:00:00.000Z'), type: 'image/png' },
      entry('folder', 'directory', 0, '2024-01-01T00:00:00.000Z'),
    ],
  );
  assert.match(html, /<audio class="player" controls preload="metadata" src="tone\.wav"/);
  assert.match(
    html,
    /<video class="player" controls preload="metadata" playsinline src="a%20b\.mp4"/,
  );
  assert.match(html, /<img src="pic\.png" alt="" loading="lazy"/);
  assert.equal(html.match(/ download aria-label="Download /g)?.length, 3);
  assert.equal(html.match(/<button type="button" class="action copy" data-href=/g)?.length, 3);
  assert.match(html, /data-href="a%20b\.mp4" aria-label="Copy resume command for a b\.mp4"/);
});

test('renderListingHtml() says so when a folder is empty', () => {
  assert.match(page([], []), /This folder is empty\./);
});

test('renderListingHtml() writes sizes in binary units, as the CLI does, with the exact bytes in a tooltip', () => {
  const html = page(
    [],
    [
      entry('disk.iso', 'file', 3_500_000, '2024-01-01T00:00:00.000Z'),
      entry('small', 'file', 1_536, '2024-01-01T00:00:00.000Z'),
    ],
  );
  assert.match(html, /<td class="size"><span title="3500000 bytes">3\.3 MiB<\/span><\/td>/);
  assert.match(html, /<td class="size"><span title="1536 bytes">1\.5 KiB<\/span><\/td>/);
  assert.match(html, /<p class="summary">2 files · 3\.3 MiB<\/p>/);
});

test('renderListingHtml() adds the upload control only with uploads, with the tus endpoint relative to the page', () => {
  const base = {
    entries: [],
    sort: { key: 'name', order: 'asc' } as const,
    css: '',
    script: '',
  };
  assert.doesNotMatch(renderListingHtml({ ...base, segments: ['a'] }), /uploader|Upload token/);
  const html = renderListingHtml({ ...base, segments: ['music', 'live <b>'], uploads: true });
  assert.match(html, /<section class="uploader"[^>]* data-endpoint="\.\.\/\.\.\/\.uploads\/"/);
  assert.match(html, /data-folder="music\/live &#60;b&#62;\/"/);
  assert.match(html, /<input id="upload-files"[^>]*type="file" multiple/);
  assert.match(html, /<label for="upload-files"[^>]*>.*Choose files<\/span><\/label>/);
  assert.match(
    html,
    /<label for="upload-token">Upload token<\/label><input id="upload-token" type="password"/,
  );
  const root = renderListingHtml({ ...base, segments: [], uploads: true });
  assert.match(root, /data-endpoint="\.\/\.uploads\/" data-folder=""/);
});
