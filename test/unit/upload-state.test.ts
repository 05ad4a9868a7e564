import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  defaultStateDir,
  loadUploadState,
  removeUploadState,
  sampledDigest,
  saveUploadState,
  statePath,
  type UploadStateRecord,
} from '../../src/client/store/upload-state.js';
import { makeTree } from '../helpers/tree.js';

const record: UploadStateRecord = {
  format: 'ranged-upload',
  version: 1,
  file: '/data/a.bin',
  url: 'http://h/.uploads/',
  protocol: 'tus',
  concat: false,
  facts: { size: 3, mtimeMs: 1, digest: 'ab' },
  parts: [{ start: 0, length: 3, url: 'http://h/.uploads/x' }],
};

test('defaultStateDir() is $XDG_STATE_HOME/ranged, else ~/.local/state/ranged', () => {
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/s' }), '/s/ranged');
  assert.match(defaultStateDir({}), /\/\.local\/state\/ranged$/);
  // XDG Base Directory: "If an implementation encounters a relative path in any of these
  // variables it should consider the path invalid and ignore it."
  assert.match(defaultStateDir({ XDG_STATE_HOME: 'rel' }), /\/\.local\/state\/ranged$/);
});

test('statePath() names one file per (file, URL) pair', () => {
  const a = statePath('/d', '/f', 'http://h/1');
  assert.equal(a, statePath('/d', '/f', 'http://h/1'));
  assert.notEqual(a, statePath('/d', '/f', 'http://h/2'));
  assert.notEqual(a, statePath('/d', '/g', 'http://h/1'));
  assert.match(a, /^\/d\/upload-[0-9a-f]{32}\.json$/);
});

test('saveUploadState() writes atomically, loadUploadState() reads it back, removeUploadState() deletes', async () => {
  const tree = await makeTree({});
  try {
    const path = statePath(join(tree.dir, 'state'), '/f', 'http://h/');
    assert.equal(await loadUploadState(path), undefined);
    await saveUploadState(path, record);
    assert.deepEqual(await loadUploadState(path), record);
    assert.deepEqual(await readdir(join(tree.dir, 'state')), [path.split('/').at(-1)]);
    await removeUploadState(path);
    await removeUploadState(path);
    assert.equal(await loadUploadState(path), undefined);
  } finally {
    await tree.cleanup();
  }
});

test('loadUploadState() ignores garbage, empty files and another format', async () => {
  const tree = await makeTree({});
  try {
    for (const text of [
      '',
      '\0\0',
      '{"format":"x","version":1}',
      '{',
      JSON.stringify({ ...record, version: 2 }),
    ]) {
      const path = join(tree.dir, 's.json');
      await writeFile(path, text);
      assert.equal(await loadUploadState(path), undefined, text);
    }
  } finally {
    await tree.cleanup();
  }
});

test('sampledDigest() changes when a sampled block changes, and with the size', async () => {
  const tree = await makeTree({});
  try {
    const path = join(tree.dir, 'f.bin');
    const data = Buffer.alloc(4 * 1024 * 1024, 1);
    await writeFile(path, data);
    const a = await sampledDigest(path, data.length, 16, 64 * 1024);
    data[0] = 2; // position 0 is always sampled
    await writeFile(path, data);
    const b = await sampledDigest(path, data.length, 16, 64 * 1024);
    assert.notEqual(a, b);
    data[data.length - 1] = 2; // so is the last byte
    await writeFile(path, data);
    assert.notEqual(await sampledDigest(path, data.length, 16, 64 * 1024), b);
  } finally {
    await tree.cleanup();
  }
});
