/**
 * `npm pack` / `npm publish` hooks: the packed package.json leaves out what only a clone needs.
 * - `prepare` (the build for `npm ci` in a clone): npm would run it, or warn about it, when a user
 *   installs the tarball, which ships the built `dist/` and needs no build.
 * - the devDependency on the package itself (`file:.`, so `npx ranged` runs this clone's CLI).
 * `strip` (prepack) keeps the original beside it; `restore` (postpack) puts it back.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const FILE = 'package.json';
const KEPT = 'package.json.unpacked';

if (process.argv[2] === 'strip') {
  if (existsSync(KEPT)) renameSync(KEPT, FILE); // an earlier pack that stopped before restore
  const text = readFileSync(FILE, 'utf8');
  const manifest = JSON.parse(text) as {
    name: string;
    scripts?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  writeFileSync(KEPT, text);
  delete manifest.scripts?.prepare;
  delete manifest.devDependencies?.[manifest.name];
  writeFileSync(FILE, `${JSON.stringify(manifest, null, 2)}\n`);
} else if (process.argv[2] === 'restore') {
  if (existsSync(KEPT)) renameSync(KEPT, FILE);
} else {
  process.stderr.write('usage: node dist/scripts/pack-manifest.js strip|restore\n');
  process.exitCode = 2;
}
