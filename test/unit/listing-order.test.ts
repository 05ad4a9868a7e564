import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePathSegment, entryHref, type ListingEntry } from '../../src/server/listing/entry.js';
import {
  compareEntries,
  compareNames,
  parseListingSort,
  type SortFacts,
  sortEntries,
} from '../../src/server/listing/order.js';

function entry(
  name: string,
  kind: 'file' | 'directory',
  size: number,
  mtime: string,
  bytes?: number[],
): ListingEntry {
  return {
    name,
    kind,
    size: kind === 'file' ? size : null,
    mtime,
    type: kind === 'file' ? 'text/plain; charset=utf-8' : 'inode/directory',
    etag: kind === 'file' ? `"${name}"` : null,
    ...(bytes === undefined ? {} : { bytes: Uint8Array.from(bytes) }),
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

const names: [string, string, number][] = [
  ['file2', 'file10', -1],
  ['File1', 'file1', -1], // equal but for case: then by code unit, so the order is total
  ['file1', 'File2', -1],
  ['eclair', 'éclair', -1],
  ['éclair', 'Ecole', -1],
  ['ss', 'ß', -1],
  ['v1.9', 'v1.10', -1],
  ['.dotfile', 'a', -1],
  ['same', 'same', 0],
];
for (const [a, b, sign] of names) {
  test(`compareNames() puts ${JSON.stringify(a)} ${sign < 0 ? 'before' : 'level with'} ${JSON.stringify(b)}`, () => {
    assert.equal(Math.sign(compareNames(a, b)), sign);
    assert.equal(Math.sign(compareNames(b, a)), 0 - sign);
  });
}

/**
 * A tricky folder: case, numbers, accents, dot names, equal sizes and times, and three names that
 * show alike as "\uFFFD.txt": one that is that text, and two that are not UTF-8 (0xFE, 0xFF).
 */
const T = (day: number) => `2024-02-${String(day).padStart(2, '0')}T00:00:00.000Z`;
const tricky = [
  entry('file10.txt', 'file', 5, T(3)),
  entry('Zeta', 'directory', 0, T(1)),
  entry('file2.txt', 'file', 5, T(3)),
  entry('\uFFFD.txt', 'file', 7, T(2), [0xff, 0x2e, 0x74, 0x78, 0x74]),
  entry('File1.txt', 'file', 9, T(4)),
  entry('.dotfile', 'file', 0, T(9)),
  entry('éclair', 'file', 5, T(3)),
  entry('\uFFFD.txt', 'file', 7, T(2)),
  entry('Ärger', 'directory', 0, T(5)),
  entry('file1.txt', 'file', 9, T(4)),
  entry('eclair', 'file', 1, T(8)),
  entry('.git', 'directory', 0, T(7)),
  entry('Ecole', 'file', 2, T(1)),
  entry('\uFFFD.txt', 'file', 7, T(2), [0xfe, 0x2e, 0x74, 0x78, 0x74]),
  entry('10.txt', 'file', 10, T(6)),
  entry('9.txt', 'file', 10, T(6)),
  entry('日本.md', 'file', 3, T(5)),
  entry('alpha', 'directory', 0, T(5)),
];
const trickyOrders: [string, string[]][] = [
  [
    'name',
    [
      '.git/',
      'alpha/',
      '%C3%84rger/',
      'Zeta/',
      '.dotfile',
      '9.txt',
      '10.txt',
      'eclair',
      '%C3%A9clair',
      'Ecole',
      'File1.txt',
      'file1.txt',
      'file2.txt',
      'file10.txt',
      '%E6%97%A5%E6%9C%AC.md',
      '%EF%BF%BD.txt',
      '%FE.txt',
      '%FF.txt',
    ],
  ],
  [
    'size',
    [
      '.git/',
      'alpha/',
      '%C3%84rger/',
      'Zeta/',
      '.dotfile',
      'eclair',
      'Ecole',
      '%E6%97%A5%E6%9C%AC.md',
      '%C3%A9clair',
      'file2.txt',
      'file10.txt',
      '%EF%BF%BD.txt',
      '%FE.txt',
      '%FF.txt',
      'File1.txt',
      'file1.txt',
      '9.txt',
      '10.txt',
    ],
  ],
  [
    'mtime',
    [
      'Zeta/',
      'alpha/',
      '%C3%84rger/',
      '.git/',
      'Ecole',
      '%EF%BF%BD.txt',
      '%FE.txt',
      '%FF.txt',
      '%C3%A9clair',
      'file2.txt',
      'file10.txt',
      'File1.txt',
      'file1.txt',
      '%E6%97%A5%E6%9C%AC.md',
      '9.txt',
      '10.txt',
      'eclair',
      '.dotfile',
    ],
  ],
];
for (const [key, hrefs] of trickyOrders) {
  test(`sortEntries() by ${key} orders a tricky folder totally, folders first, both ways`, () => {
    const asc = sortEntries(tricky, parseListingSort(`sort=${key}&order=asc`));
    assert.deepEqual(asc.map(entryHref), hrefs);
    const desc = sortEntries(tricky, parseListingSort(`sort=${key}&order=desc`));
    const folders = desc.filter((e) => e.kind === 'directory').map(entryHref);
    const files = desc.filter((e) => e.kind === 'file').map(entryHref);
    assert.deepEqual(
      [...folders, ...files],
      [
        ...hrefs.filter((h) => h.endsWith('/')).reverse(),
        ...hrefs.filter((h) => !h.endsWith('/')).reverse(),
      ],
    );
    assert.deepEqual(desc.map(entryHref), [...folders, ...files], 'folders first');
  });
}

/**
 * What the page's script sorts by: the facts it reads back from a row (data-name, data-kind,
 * data-size, data-mtime, written as text) and the bytes of the row's link (browser/page.ts).
 */
function rowFacts(e: ListingEntry): SortFacts {
  const kind = e.kind;
  return {
    name: e.name,
    kind,
    size: kind === 'directory' ? null : Number(String(e.size ?? 0)),
    mtime: e.mtime,
    bytes: decodePathSegment(entryHref(e).replace(/\/$/, '')),
  };
}

for (const key of ['name', 'size', 'mtime']) {
  for (const order of ['asc', 'desc']) {
    test(`compareEntries() by ${key} ${order} orders a page's rows as the server orders its entries`, () => {
      const sort = parseListingSort(`sort=${key}&order=${order}`);
      const server = sortEntries(tricky, sort).map(entryHref);
      // The page starts from any order (the server's in another sort, say) and sorts its rows.
      for (const start of [
        tricky,
        [...tricky].reverse(),
        sortEntries(tricky, { key: 'size', order: 'desc' }),
      ]) {
        const compare = compareEntries(sort);
        const rows = start.map((e) => ({ href: entryHref(e), facts: rowFacts(e) }));
        rows.sort((a, b) => compare(a.facts, b.facts));
        assert.deepEqual(
          rows.map((r) => r.href),
          server,
        );
      }
    });
  }
}
