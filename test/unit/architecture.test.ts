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

// The listing's model and page renderer are pure like core/ (the model is also compiled into the
// page's script): only these two shell modules in server/listing/ may do I/O.
const LISTING_SHELL = ['src/server/listing/listings.ts', 'src/server/listing/assets.ts'];

test('server/listing/ is pure but for its shell, and its browser script imports only the model', () => {
  const files = read('src/server/listing');
  assert.ok(files.length >= 8, 'listing modules found');
  for (const shell of LISTING_SHELL) {
    assert.ok(
      files.some(([name]) => name === shell),
      `${shell} exists`,
    );
  }
  for (const [name, text] of files) {
    if (LISTING_SHELL.includes(name)) continue;
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      const sibling = spec.startsWith('./') ? `src/server/listing/${spec.slice(2)}` : '';
      const pure =
        (/^\.\/[\w-]+\.js$/.test(spec) &&
          !LISTING_SHELL.includes(sibling.replace(/\.js$/, '.ts'))) ||
        /^\.\.\/\.\.\/core\/[\w-]+\.js$/.test(spec);
      assert.ok(pure, `${name} imports ${spec}`);
    }
    assert.doesNotMatch(text, /Date\.now\(|Math\.random\(|process\.|new Date\(\)/, name);
  }
  for (const [name, text] of read('src/server/listing/browser')) {
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      assert.match(spec, /^\.\.\/(entry|order)\.js$/, `${name} imports ${spec}`);
    }
  }
});
