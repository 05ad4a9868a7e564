import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Runs from dist/test/unit; README.md is read from the repository. The modules are imported by the
// package's own name, through package.json's "exports", as a user would.
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

/** The backquoted names between `<!-- exports:NAME -->` and the next `<!-- /exports -->`. */
function listed(entry: string): string[] {
  const start = readme.indexOf(`<!-- exports:${entry} -->`);
  assert.notEqual(start, -1, `README lists the exports of ${entry}`);
  const end = readme.indexOf('<!-- /exports -->', start);
  const block = readme.slice(start, end).split('\n').slice(1).join('\n');
  const names = [...block.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1] ?? '');
  // The module names that head the core's lines (`range`: …) are not exports.
  const modules = new Set([...block.matchAll(/^- `([\w-]+)`:/gm)].map((m) => m[1]));
  return names.filter((n) => !modules.has(n)).sort();
}

for (const entry of ['ranged-http', 'ranged-http/core']) {
  test(`README lists exactly the values that ${entry} exports`, async () => {
    const module: Record<string, unknown> = await import(entry);
    assert.deepEqual(listed(entry), Object.keys(module).sort());
  });
}

test('ranged exports the server, the client and the errors, and no core internals', async () => {
  const ranged: Record<string, unknown> = await import('ranged-http');
  for (const name of ['createHandler', 'serveFile', 'startServer', 'download', 'RangedError'])
    assert.equal(typeof ranged[name], 'function', name);
  assert.equal(ranged.parseRange, undefined);
  const core: Record<string, unknown> = await import('ranged-http/core');
  assert.equal(typeof core.parseRange, 'function');
  assert.equal(core.download, undefined);
});
