import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Runs from dist/test/unit; the sources are read from the repository.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = join(root, 'src');

/** Every .ts file below `dir`, as a path relative to the repository ("src/client/types.ts"). */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  /** As written: "../core/range.js", "node:fs". */
  specifier: string;
  /** The file it names, relative to the repository; undefined for a package or node: module. */
  target: string | undefined;
}

/**
 * The imports of a file: `import`, `import type`, `export … from`, side-effect imports and
 * `import()`, read by TypeScript's own pre-parser (so comments and strings are not mistaken for
 * imports), each relative specifier resolved to the .ts file it names.
 */
function importsOf(file: string, text: string): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith('.')) return { specifier, target: undefined };
    const absolute = resolve(dirname(join(root, file)), specifier).replace(/\.js$/, '.ts');
    assert.ok(existsSync(absolute), `${file} imports ${specifier}, which names no source file`);
    return { specifier, target: relative(root, absolute).split('\\').join('/') };
  });
}

/** The import graph of `src/`: file → imports. */
function graph(files: readonly string[]): Map<string, Import[]> {
  return new Map(files.map((f) => [f, importsOf(f, readFileSync(join(root, f), 'utf8'))]));
}

const all = graph(sources('src'));

test('architecture: the import graph is read (imports, type imports, re-exports)', () => {
  assert.ok(existsSync(src));
  const download = all.get('src/client/download.ts') ?? [];
  assert.ok(download.some((i) => i.target === 'src/client/types.ts'));
  const index = all.get('src/index.ts') ?? [];
  assert.ok(
    index.some((i) => i.target === 'src/errors.ts'),
    'export * from is an import',
  );
  // The parser itself, on the forms that matter.
  const forms = importsOf(
    'src/x.ts',
    [
      "import type { A } from './errors.js';",
      "export { B } from './errors.js';",
      "export * from './errors.js';",
      "import './errors.js';",
      "const c = await import('node:https');",
      "// import d from './nowhere.js';",
      'const e = "from \'./nowhere.js\'";',
    ].join('\n'),
  );
  assert.deepEqual(
    forms.map((i) => i.specifier),
    ['./errors.js', './errors.js', './errors.js', './errors.js', 'node:https'],
  );
});

test('core/ imports nothing but core/ and errors.ts, and touches no clock, randomness or process', () => {
  const core = [...all].filter(([f]) => f.startsWith('src/core/'));
  assert.ok(core.length >= 6, 'core modules found');
  // sources() recurses: the pure modules in core/'s subfolders (core/upload/) follow the rule too.
  assert.ok(
    core.some(([f]) => f.startsWith('src/core/upload/')),
    'core/ subfolders scanned',
  );
  for (const [file, imports] of core) {
    for (const { specifier, target } of imports) {
      assert.ok(
        target !== undefined && (target.startsWith('src/core/') || target === 'src/errors.ts'),
        `${file} imports ${specifier}`,
      );
    }
    const text = readFileSync(join(root, file), 'utf8');
    assert.doesNotMatch(text, /Date\.now\(|Math\.random\(|process\.|new Date\(\)/, file);
  }
});

test('server/ and client/ never import each other', () => {
  for (const [file, imports] of all) {
    for (const { specifier, target } of imports) {
      if (target === undefined) continue;
      if (file.startsWith('src/server/'))
        assert.ok(!target.startsWith('src/client/'), `${file} imports ${specifier}`);
      if (file.startsWith('src/client/'))
        assert.ok(!target.startsWith('src/server/'), `${file} imports ${specifier}`);
    }
  }
});

/**
 * The layers of `client/`, top to bottom: each may import its own layer and those listed, plus
 * core/ and the shared leaves (errors.ts, boot-id.ts). `download.ts` (the public entry) → `engine/` → `transport/` and `store/`
 * (which never import each other) → `types.ts` (the public types, importing nothing of client/).
 */
const CLIENT_LAYERS: Record<string, readonly string[]> = {
  'download.ts': ['engine', 'transport', 'store', 'types.ts'],
  'upload.ts': ['engine', 'transport', 'store', 'types.ts'],
  engine: ['transport', 'store', 'types.ts'],
  transport: ['types.ts'],
  store: ['types.ts'],
  'types.ts': [],
};

/** Modules of src/ that import nothing of src/ but errors.ts, usable from every layer. */
const SHARED_LEAVES: readonly string[] = ['src/errors.ts', 'src/boot-id.ts'];

/** "engine" for src/client/engine/x.ts, "types.ts" for src/client/types.ts. */
function clientLayer(file: string): string | undefined {
  if (!file.startsWith('src/client/')) return undefined;
  return file.slice('src/client/'.length).split('/')[0];
}

/** Why `file` may not import `target` under CLIENT_LAYERS, or undefined when it may. */
function layerViolation(file: string, target: string): string | undefined {
  const from = clientLayer(file);
  if (from === undefined) return undefined;
  const allowed = CLIENT_LAYERS[from];
  if (allowed === undefined)
    return `${file} is in no layer of client/ (${Object.keys(CLIENT_LAYERS).join(', ')})`;
  if (SHARED_LEAVES.includes(target) || target.startsWith('src/core/')) return undefined;
  const to = clientLayer(target);
  if (to === undefined)
    return `${file} imports ${target}, outside client/, core/ and the shared leaves`;
  if (to === from || allowed.includes(to)) return undefined;
  return `${file} (${from}) imports ${target} (${to}): an upward or sideways import`;
}

test('client/ imports go one way: download.ts → engine/ → transport/, store/ → types.ts', () => {
  const layers = new Set([...all.keys()].map(clientLayer).filter((l) => l !== undefined));
  assert.deepEqual([...layers].sort(), Object.keys(CLIENT_LAYERS).sort());
  for (const [file, imports] of all) {
    for (const { target } of imports) {
      if (target === undefined) continue;
      const why = layerViolation(file, target);
      assert.equal(why, undefined, why);
    }
  }
});

test('layerViolation() refuses upward and sideways imports', () => {
  const cases: [string, string, boolean][] = [
    ['src/client/engine/attempt.ts', 'src/client/store/part-store.ts', true],
    ['src/client/engine/attempt.ts', 'src/client/transport/range-request.ts', true],
    ['src/client/download.ts', 'src/client/engine/download-loop.ts', true],
    ['src/client/store/part-store.ts', 'src/client/types.ts', true],
    ['src/client/store/part-store.ts', 'src/core/journal.ts', true],
    ['src/client/store/part-store.ts', 'src/client/engine/run.ts', false],
    ['src/client/transport/http1.ts', 'src/client/store/fs-error.ts', false],
    ['src/client/transport/http1.ts', 'src/client/engine/retry.ts', false],
    ['src/client/store/part-store.ts', 'src/client/transport/http1.ts', false],
    ['src/client/engine/attempt.ts', 'src/client/download.ts', false],
    ['src/client/types.ts', 'src/client/store/checksum.ts', false],
    ['src/client/engine/attempt.ts', 'src/cli/get.ts', false],
    ['src/client/stray.ts', 'src/client/types.ts', false],
  ];
  for (const [file, target, allowed] of cases) {
    assert.equal(layerViolation(file, target) === undefined, allowed, `${file} → ${target}`);
  }
});

/** The import cycles of a graph (Tarjan's strongly connected components of two or more files,
 * or one file importing itself). */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no two modules of src/ import each other, directly or around a cycle (type imports too)', () => {
  const edges = new Map(
    [...all].map(([file, imports]) => [
      file,
      imports.flatMap((i) => (i.target === undefined ? [] : [i.target])),
    ]),
  );
  assert.deepEqual(cycles(edges), []);
});

test('cycles() finds a cycle and only a cycle', () => {
  const g = (pairs: [string, string[]][]) => new Map(pairs);
  assert.deepEqual(
    cycles(
      g([
        ['a', ['b']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    [],
  );
  assert.deepEqual(
    cycles(
      g([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
      ]),
    ),
    [['a', 'b', 'c']],
  );
  assert.deepEqual(cycles(g([['a', ['a']]])), [['a']]);
  assert.deepEqual(
    cycles(
      g([
        ['a', ['b', 'c']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    [],
  );
});

// The listing's model and page renderer are pure like core/ (the model is also compiled into the
// page's script): only these two shell modules in server/listing/ may do I/O.
const LISTING_SHELL = ['src/server/listing/listings.ts', 'src/server/listing/assets.ts'];

test('server/listing/ is pure but for its shell, and its browser script imports only the model', () => {
  const browser = 'src/server/listing/browser';
  const files = sources('src/server/listing').filter((f) => !f.startsWith(`${browser}/`));
  assert.ok(files.length >= 8, 'listing modules found');
  for (const shell of LISTING_SHELL) assert.ok(files.includes(shell), `${shell} exists`);
  for (const name of files) {
    if (LISTING_SHELL.includes(name)) continue;
    for (const { specifier, target } of all.get(name) ?? []) {
      const folder = target === undefined ? undefined : dirname(target);
      const pure =
        target !== undefined &&
        ((folder === 'src/server/listing' && !LISTING_SHELL.includes(target)) ||
          folder === 'src/core');
      assert.ok(pure, `${name} imports ${specifier}`);
    }
    const text = readFileSync(join(root, name), 'utf8');
    assert.doesNotMatch(text, /Date\.now\(|Math\.random\(|process\.|new Date\(\)/, name);
  }
  const scripts = sources(browser);
  assert.ok(scripts.length >= 1, 'the browser script found');
  for (const name of scripts) {
    for (const { specifier, target } of all.get(name) ?? []) {
      assert.ok(
        target === 'src/server/listing/entry.ts' ||
          target === 'src/server/listing/order.ts' ||
          target?.startsWith(`${browser}/`) === true,
        `${name} imports ${specifier}`,
      );
    }
  }
});
