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
  // A server still running until a later after-hook may write a file (a checkpoint's temporary
  // record) into a folder while it is removed: the rm then meets ENOTEMPTY, which Node retries.
  // Without the retries the hook failed, the hooks after it (the server's kill) did not run, and
  // the test file hung until its timeout.
  return {
    dir,
    cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
  };
}
