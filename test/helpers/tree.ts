/** Builds a temporary folder tree from an object: strings/buffers are files, objects are folders. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Tree = { [name: string]: string | Uint8Array | Tree };

export async function writeTree(dir: string, tree: Tree): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    const path = join(dir, name);
    if (typeof value === 'string' || value instanceof Uint8Array) await writeFile(path, value);
    else await writeTree(path, value);
  }
}

/** Creates a fresh temporary folder holding `tree`; returns its path and a cleanup function. */
export async function makeTree(
  tree: Tree = {},
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-test-'));
  await writeTree(dir, tree);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
