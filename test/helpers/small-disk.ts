/** A small tmpfs for tests that must show what a full (or a bounded) disk does. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Mounts a tmpfs of `size` (mount's syntax: `3m`, `1088k`) at a new folder, unmounted after the
 * test (root only); undefined where mounting is not allowed.
 */
export function smallDisk(
  t: { after(fn: () => Promise<void>): void },
  size: string,
): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ranged-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  t.after(async () => {
    execFileSync('umount', [dir], { stdio: 'ignore' });
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
