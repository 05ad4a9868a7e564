/**
 * The package as a user gets it: `npm pack` of what package.json ships (the built dist/src and the
 * manifest as prepack leaves it), then `npm install -g` of that tarball into a temporary prefix, with
 * no build step and no install-script warning, and the installed `ranged` serving and downloading
 * from another folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServeCli } from '../helpers/cli.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

test('npm pack + npm install -g of the tarball gives a working ranged, with no build and no install script', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-install-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A copy of what `files` ships, so the repository's own package.json is never rewritten here.
  const pkg = join(dir, 'pkg');
  await mkdir(join(pkg, 'dist'), { recursive: true });
  await cp(join(repo, 'dist/src'), join(pkg, 'dist/src'), { recursive: true });
  await cp(join(repo, 'package.json'), join(pkg, 'package.json'));
  await cp(join(repo, 'README.md'), join(pkg, 'README.md'));
  await run(process.execPath, [join(repo, 'dist/scripts/pack-manifest.js'), 'strip'], { cwd: pkg });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: pkg });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'ranged-http');
  assert.equal(manifest.bin.ranged, 'dist/src/cli/main.js');
  assert.equal(manifest.scripts.prepare, undefined, 'no prepare script ships');

  const prefix = join(dir, 'prefix');
  const install = await run(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(dir, tarball),
    ],
    { cwd: dir, timeout: 180_000 },
  );
  const said = `${install.stdout}${install.stderr}`;
  assert.doesNotMatch(said, /install-scripts|prepare|tsc/, said);

  // From another folder: serve, and download with the installed CLI.
  const elsewhere = join(dir, 'elsewhere');
  await mkdir(join(elsewhere, 'out'), { recursive: true });
  await writeFile(join(elsewhere, 'a.txt'), 'hello from the tarball\n');
  const bin = join(prefix, 'bin', 'ranged');
  const version = await run(bin, ['--version'], { cwd: elsewhere });
  assert.equal(version.stdout.trim(), manifest.version);
  const { child, url } = await startServeCli(elsewhere, ['--quiet'], { bin });
  t.after(() => child.kill('SIGKILL'));
  await run(bin, ['get', `${url}/a.txt`, '-o', join(elsewhere, 'out', 'a.txt'), '--quiet'], {
    cwd: elsewhere,
  });
  assert.equal(await readFile(join(elsewhere, 'out', 'a.txt'), 'utf8'), 'hello from the tarball\n');
});
