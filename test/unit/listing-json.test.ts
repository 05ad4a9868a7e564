import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ListingEntry } from '../../src/server/listing/entry.js';
import { renderListingJson } from '../../src/server/listing/json.js';
import { paginate } from '../../src/server/listing/pages.js';

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

test('renderListingJson() links the neighbouring pages in the sort order', () => {
  const list = ['a', 'b', 'c', 'd', 'e'].map((n) =>
    entry(n, 'file', 1, '2024-01-01T00:00:00.000Z'),
  );
  const { pagination, slice } = paginate(list, 2, 2);
  const doc = JSON.parse(renderListingJson([], slice, pagination, { key: 'size', order: 'desc' }));
  assert.deepEqual(
    [doc.page, doc.pages, doc.total, doc.truncated, doc.prev, doc.next],
    [2, 3, 5, false, '?sort=size&order=desc', '?sort=size&order=desc&page=3'],
  );
  assert.deepEqual(
    doc.entries.map((e: { name: string }) => e.name),
    ['c', 'd'],
  );
});
