import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFilename } from '../../src/core/upload/filename.js';

// Issue 12: the `filename` metadata is checked "with exactly the rules that URL paths follow (no
// `..`, empty segment, NUL, backslash; a dot-name only with `--dotfiles`)".
const ok: [string, string[], boolean?][] = [
  ['take1.wav', ['take1.wav']],
  ['music/take1.wav', ['music', 'take1.wav']],
  ['a/b/c d.txt', ['a', 'b', 'c d.txt']],
  ['café/ü.txt', ['café', 'ü.txt']],
  ['%2e%2e', ['%2e%2e']], // a literal name: metadata is not percent-decoded
  ['x..y', ['x..y']],
  ['.env', ['.env'], true],
  ['a/.git/x', ['a', '.git', 'x'], true],
];
for (const [name, segments, dotfiles] of ok) {
  test(`checkFilename() accepts ${JSON.stringify(name)}${dotfiles ? ' with dotfiles' : ''}`, () => {
    assert.deepEqual(checkFilename(name, { dotfiles: dotfiles ?? false }), {
      kind: 'ok',
      segments,
    });
  });
}

const bad: [string, string, boolean?][] = [
  ['', 'empty filename'],
  ['..', 'climbs'],
  ['a/../b', 'climbs'],
  ['../etc/passwd', 'climbs'],
  ['/etc/passwd', 'empty segment'],
  ['a//b', 'empty segment'],
  ['a/', 'empty segment'],
  ['./a', '"." segment'],
  ['a/./b', '"." segment'],
  ['a\u0000b', 'NUL'],
  ['a\\b', 'separator'],
  ['..\\x', 'separator'],
  ['.env', 'hidden'],
  ['a/.git/config', 'hidden'],
  ['..', 'climbs', true], // dotfiles never allows a parent
];
for (const [name, reason, dotfiles] of bad) {
  test(`checkFilename() refuses ${JSON.stringify(name)}${dotfiles ? ' even with dotfiles' : ''}`, () => {
    const r = checkFilename(name, { dotfiles: dotfiles ?? false });
    assert.equal(r.kind, 'invalid');
    if (r.kind === 'invalid') assert.match(r.reason, new RegExp(reason));
  });
}
