/**
 * The one test every served or listed path passes: its real path stays inside the real root and,
 * unless dotfiles are allowed, names no hidden file or folder on the way.
 */
import { isAbsolute, relative, sep } from 'node:path';

/** True if `child` is `root` or inside it; `..`-prefixed names like `..foo` are fine. */
export function isPathInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True if the real path `real` may be served from the real root `root`. */
export function isServable(root: string, real: string, options: { dotfiles: boolean }): boolean {
  if (!isPathInside(root, real)) return false;
  if (options.dotfiles || real === root) return true;
  return !relative(root, real)
    .split(sep)
    .some((segment) => segment.startsWith('.'));
}
