import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Runs from dist/test/unit; the sources are read from the repository.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (dir: string) =>
  readdirSync(`${root}${dir}`)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`${dir}/${f}`, readFileSync(`${root}${dir}/${f}`, 'utf8')] as const);

test('core/ imports nothing but core/ and errors.ts, and touches no clock, randomness or process', () => {
  const files = read('src/core');
  assert.ok(files.length >= 6, 'core modules found');
  for (const [name, text] of files) {
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      assert.ok(spec.startsWith('./') || spec === '../errors.js', `${name} imports ${spec}`);
    }
    assert.doesNotMatch(text, /Date\.now\(|Math\.random\(|process\.|new Date\(\)/, name);
  }
});

test('server/ and client/ never import each other', () => {
  for (const [name, text] of read('src/server'))
    assert.doesNotMatch(text, /from '\.\.\/client\//, name);
  for (const [name, text] of read('src/client'))
    assert.doesNotMatch(text, /from '\.\.\/server\//, name);
});
