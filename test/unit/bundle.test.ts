import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { bundleModules, joinPath, parseModule } from '../../scripts/bundle.js';

test('parseModule() takes out imports and export keywords and names what is exported', () => {
  const parsed = parseModule(
    'browser/page.js',
    [
      "import { a, b as c } from '../x.js';",
      'export const ONE = 1;',
      'export function two() { return 2; }',
      'export async function three() {}',
      'export class Four {}',
      'const local = a + c;',
      'export {};',
    ].join('\n'),
  );
  assert.deepEqual(parsed.imports, [{ path: 'x.js', names: ['a', 'b: c'] }]);
  assert.deepEqual(parsed.exports, ['ONE', 'two', 'three', 'Four']);
  assert.doesNotMatch(parsed.body, /\b(import|export)\b/);
  assert.match(parsed.body, /^const ONE = 1;$/m);
});

const refused: [string, string][] = [
  ['a default export', 'export default 1;'],
  ['an export list', 'const a = 1;\nexport { a };'],
  ['a re-export', "export * from './x.js';"],
  ['a bare import', "import './x.js';"],
  ['a default import', "import x from './x.js';"],
  ['a package import', "import { x } from 'pkg';"],
  ['a dynamic import', "const x = await import('./x.js');"],
];
for (const [what, code] of refused) {
  test(`parseModule() refuses ${what}`, () => {
    assert.throws(() => parseModule('m.js', code), /^Error: Cannot bundle m\.js: unsupported/);
  });
}

test('joinPath() resolves ./ and ../ from the importing module, and not above the root', () => {
  assert.equal(joinPath('browser/page.js', '../order.js'), 'order.js');
  assert.equal(joinPath('order.js', './entry.js'), 'entry.js');
  assert.equal(joinPath('a/b/c.js', '../../d/e.js'), 'd/e.js');
  assert.throws(() => joinPath('order.js', '../up.js'), /leaves the root/);
});

const sources: Record<string, string> = {
  'entry.js': 'const hidden = 40;\nexport function base() { return hidden; }',
  'order.js': "import { base } from './entry.js';\nexport const answer = () => base() + 2;",
  'browser/page.js': [
    "import { answer } from '../order.js';",
    "import { base as b } from '../entry.js';",
    'const hidden = 1;',
    'out.push(answer(), b(), hidden);',
  ].join('\n'),
};

test('bundleModules() runs each module once, in import order, in scopes of their own', () => {
  const text = bundleModules('browser/page.js', (path) => sources[path] ?? '');
  const out: number[] = [];
  runInNewContext(text, { out });
  assert.deepEqual(out, [42, 40, 1]);
  assert.equal(text.match(/\/\/ entry\.js/g)?.length, 1, 'a module imported twice is bundled once');
  assert.match(text, /^\(\(\) => \{\n'use strict';/);
});

test('bundleModules() refuses an import cycle and text that would end the <script> element', () => {
  const cycle: Record<string, string> = {
    'a.js': "import { b } from './b.js';\nexport const a = 1;",
    'b.js': "import { a } from './a.js';\nexport const b = 2;",
  };
  assert.throws(
    () => bundleModules('a.js', (path) => cycle[path] ?? ''),
    /Cannot bundle a\.js: an import cycle/,
  );
  assert.throws(
    () => bundleModules('m.js', () => "const s = '</script><script>alert(1)';"),
    /<\/script or <!--/,
  );
});
