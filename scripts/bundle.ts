/**
 * A bundler for the listing page's script, small enough to read: it joins ES modules emitted by
 * tsc (tsconfig.browser.json) into one classic script for a <script> element, each module in a
 * function of its own, its imports read from the modules before it. It knows only the forms tsc
 * emits for this code (`import { a, b as c } from './x.js'`, `export function|const|let|class`)
 * and refuses anything else rather than guess: a default export, `export { … }`, a bare or
 * dynamic import, an import cycle, or text that would end the <script> element.
 */

/** The bundle: one strict script that runs `entry` after the modules it imports. */
export function bundleModules(entry: string, read: (path: string) => string): string {
  const order: { path: string; code: string; exports: string[] }[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (path: string) => {
    if (state.get(path) === 'done') return;
    if (state.get(path) === 'visiting') throw new Error(`Cannot bundle ${path}: an import cycle`);
    state.set(path, 'visiting');
    const module = parseModule(path, read(path));
    for (const dep of module.imports) visit(dep.path);
    const imports = module.imports.map(
      (dep) => `const { ${dep.names.join(', ')} } = ${moduleVar(order, dep.path)};`,
    );
    order.push({
      path,
      code: [...imports, module.body.trim()].join('\n'),
      exports: module.exports,
    });
    state.set(path, 'done');
  };
  visit(entry);
  const parts = order.map((m, i) =>
    i === order.length - 1
      ? `// ${m.path}\n${m.code}`
      : `// ${m.path}\nconst __m${i} = (() => {\n${m.code}\nreturn { ${m.exports.join(', ')} };\n})();`,
  );
  const text = `(() => {\n'use strict';\n${parts.join('\n')}\n})();\n`;
  // The text goes inside <script>…</script> in HTML: it must not close or comment the element.
  if (/<\/script|<!--/i.test(text))
    throw new Error(`Cannot bundle ${entry}: the text has </script or <!--`);
  return text;
}

function moduleVar(order: readonly { path: string }[], path: string): string {
  return `__m${order.findIndex((m) => m.path === path)}`;
}

interface Parsed {
  imports: { path: string; names: string[] }[];
  exports: string[];
  body: string;
}

/** Reads the imports and exports of one emitted module, and its code without them. */
export function parseModule(path: string, code: string): Parsed {
  const imports: Parsed['imports'] = [];
  const exports: string[] = [];
  let body = code.replace(
    /^import\s*\{([^}]*)\}\s*from\s*'(\.{1,2}\/[^']+)';[ \t]*$/gm,
    (_, names: string, spec: string) => {
      imports.push({
        path: joinPath(path, spec),
        names: names
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== '')
          .map((n) => n.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2')),
      });
      return '';
    },
  );
  body = body.replace(/^export \{\};[ \t]*$/gm, '');
  body = body.replace(
    /^export ((?:async )?function\*? ?|const |let |class )([\w$]+)/gm,
    (_, kind: string, name: string) => {
      exports.push(name);
      return `${kind}${name}`;
    },
  );
  const left = /^\s*(import|export)\b.*$|\bimport\s*\(/m.exec(body);
  if (left !== null) throw new Error(`Cannot bundle ${path}: unsupported "${left[0].trim()}"`);
  return { imports, exports, body };
}

/** `a/b/c.js` + `../d.js` → `a/d.js` (paths relative to the bundle's root, with `/`). */
export function joinPath(from: string, spec: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') {
      if (parts.length === 0) throw new Error(`Cannot bundle ${from}: ${spec} leaves the root`);
      parts.pop();
    } else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}
