import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodePathSegment,
  entryHref,
  escapeHtml,
  fileCategory,
  formatMtime,
  kindLabel,
  type ListingEntry,
  parseListingSort,
  prefersJson,
  previewFor,
  renderListingHtml,
  renderListingJson,
  sortEntries,
} from '../../src/core/listing-view.js';

test('formatMtime() shows minutes in UTC and passes anything else through', () => {
  assert.equal(formatMtime('2024-05-01T12:34:56.789Z'), '2024-05-01 12:34 UTC');
  assert.equal(formatMtime('yesterday'), 'yesterday');
});

const segments: [string, string][] = [
  ['plain.txt', 'plain.txt'],
  ['a b.txt', 'a%20b.txt'],
  ['a#b?c%d.txt', 'a%23b%3Fc%25d.txt'],
  ['café ü.md', 'caf%C3%A9%20%C3%BC.md'],
  ["it's (1)*!.txt", 'it%27s%20%281%29%2A%21.txt'],
  ['a:b', 'a%3Ab'],
  ['<img src=x onerror=alert(1)>.txt', '%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt'],
  ['semi;colon&amp', 'semi%3Bcolon%26amp'],
  ['~tilde-_.', '~tilde-_.'],
];
for (const [name, encoded] of segments) {
  test(`encodePathSegment() encodes ${JSON.stringify(name)} as ${encoded}`, () => {
    assert.equal(encodePathSegment(name), encoded);
    assert.equal(decodeURIComponent(encoded), name);
  });
}

test('entryHref() ends folders with a slash', () => {
  assert.equal(entryHref({ name: 'a b', kind: 'directory' }), 'a%20b/');
  assert.equal(entryHref({ name: 'a b', kind: 'file' }), 'a%20b');
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
const entries = [
  entry('b.txt', 'file', 30, '2024-01-03T00:00:00.000Z'),
  entry('Zeta', 'directory', 0, '2024-01-01T00:00:00.000Z'),
  entry('10.txt', 'file', 10, '2024-01-05T00:00:00.000Z'),
  entry('2.txt', 'file', 20, '2024-01-04T00:00:00.000Z'),
  entry('alpha', 'directory', 0, '2024-01-02T00:00:00.000Z'),
  entry('A.txt', 'file', 20, '2024-01-01T00:00:00.000Z'),
];
const orders: [string, string, string[]][] = [
  ['name', 'asc', ['alpha', 'Zeta', '2.txt', '10.txt', 'A.txt', 'b.txt']],
  ['name', 'desc', ['Zeta', 'alpha', 'b.txt', 'A.txt', '10.txt', '2.txt']],
  ['size', 'asc', ['alpha', 'Zeta', '10.txt', '2.txt', 'A.txt', 'b.txt']],
  ['size', 'desc', ['Zeta', 'alpha', 'b.txt', 'A.txt', '2.txt', '10.txt']],
  ['mtime', 'asc', ['Zeta', 'alpha', 'A.txt', 'b.txt', '2.txt', '10.txt']],
  ['mtime', 'desc', ['alpha', 'Zeta', '10.txt', '2.txt', 'b.txt', 'A.txt']],
];
for (const [key, order, names] of orders) {
  test(`sortEntries() by ${key} ${order} keeps folders first`, () => {
    const sort = parseListingSort(`?sort=${key}&order=${order}`);
    assert.deepEqual(
      sortEntries(entries, sort).map((e) => e.name),
      names,
    );
  });
}

test('sortEntries() returns a new array and leaves its input alone', () => {
  const before = entries.map((e) => e.name);
  assert.notEqual(sortEntries(entries), entries);
  assert.deepEqual(
    entries.map((e) => e.name),
    before,
  );
});

test('parseListingSort() falls back to name ascending for unknown values', () => {
  assert.deepEqual(parseListingSort(''), { key: 'name', order: 'asc' });
  assert.deepEqual(parseListingSort('sort=type&order=up'), { key: 'name', order: 'asc' });
  assert.deepEqual(parseListingSort('?order=desc'), { key: 'name', order: 'desc' });
});

const accepts: [string | undefined, boolean][] = [
  [undefined, false],
  ['', false],
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['Application/JSON', true],
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
  ['*/*', false],
  ['application/json, text/plain, */*', true],
  ['text/html;q=0.5, application/json', true],
  ['text/html, application/json', false],
  ['application/json;q=0', false],
  ['text/*;q=0.3, application/json;q=0.5', true],
  ['application/*', false],
];
for (const [accept, json] of accepts) {
  test(`prefersJson() is ${json} for Accept ${JSON.stringify(accept)}`, () => {
    assert.equal(prefersJson(accept), json);
  });
}

const kinds: [string, 'file' | 'directory', string, string, string | null][] = [
  ['Music', 'directory', 'inode/directory', 'Folder', null],
  ['tone.wav', 'file', 'audio/wav', 'WAV audio', 'audio'],
  ['song.flac', 'file', 'audio/x-flac', 'FLAC audio', 'audio'],
  ['clip.mp4', 'file', 'video/mp4', 'MP4 video', 'video'],
  ['film.mkv', 'file', 'video/x-matroska', 'MKV video', null],
  ['code.ts', 'file', 'video/mp2t', 'TS video', null],
  ['pic.png', 'file', 'image/png', 'PNG image', 'image'],
  ['raw.cr2', 'file', 'image/x-canon-cr2', 'CR2 image', null],
  ['a.zip', 'file', 'application/zip', 'ZIP archive', null],
  ['notes.txt', 'file', 'text/plain; charset=utf-8', 'TXT text', null],
  ['app.js', 'file', 'text/javascript; charset=utf-8', 'JS source', null],
  ['paper.pdf', 'file', 'application/pdf', 'PDF document', null],
  ['README', 'file', 'application/octet-stream', 'File', null],
  ['archive.tar.gz', 'file', 'application/gzip', 'GZ archive', null],
];
for (const [name, kind, type, label, preview] of kinds) {
  test(`kindLabel() calls ${name} (${type}) "${label}"; previewFor() gives ${preview}`, () => {
    assert.equal(kindLabel({ name, kind, type }), label);
    assert.equal(previewFor({ kind, type }), preview);
  });
}

test('fileCategory() puts folders, media, archives and code apart', () => {
  assert.equal(fileCategory({ kind: 'directory', type: 'inode/directory' }), 'folder');
  assert.equal(fileCategory({ kind: 'file', type: 'audio/mpeg' }), 'audio');
  assert.equal(fileCategory({ kind: 'file', type: 'application/x-iso9660-image' }), 'archive');
  assert.equal(fileCategory({ kind: 'file', type: 'application/json; charset=utf-8' }), 'code');
  assert.equal(fileCategory({ kind: 'file', type: 'application/octet-stream' }), 'file');
});

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

test('renderListingJson() lists name, kind, size, mtime, type, etag and a relative href', () => {
  const doc = JSON.parse(
    renderListingJson(['a b'], [hostile, entry('d', 'directory', 0, '2024-01-01T00:00:00.000Z')]),
  );
  assert.deepEqual(doc, {
    path: '/a b/',
    entries: [
      {
        name: '<img src=x onerror=alert(1)>.txt',
        kind: 'file',
        size: 5,
        mtime: '2024-01-01T00:00:00.000Z',
        type: 'text/plain; charset=utf-8',
        etag: '"<img src=x onerror=alert(1)>.txt"',
        href: '%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt',
      },
      {
        name: 'd',
        kind: 'directory',
        size: null,
        mtime: '2024-01-01T00:00:00.000Z',
        type: 'inode/directory',
        etag: null,
        href: 'd/',
      },
    ],
  });
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
