import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileCategory, kindLabel, previewFor } from '../../src/server/listing/kinds.js';

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
