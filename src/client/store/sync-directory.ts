import { open } from 'node:fs/promises';

/** fsyncs a folder so that a rename or an unlink in it survives a crash. */
export async function syncDirectory(path: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL, EISDIR); the rename stands regardless.
  } finally {
    await fh?.close();
  }
}
