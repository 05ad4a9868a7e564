/** Turns a Node file-system error into a FileSystemError with a one-line message. */
import { FileSystemError } from '../../errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a parent is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

export function fsError(action: string, path: string, error: unknown): FileSystemError {
  if (error instanceof FileSystemError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    (code !== undefined ? REASONS[code] : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new FileSystemError(`Cannot ${action} "${path}": ${reason}`, { cause: error });
}
