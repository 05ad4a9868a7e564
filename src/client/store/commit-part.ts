/**
 * `commitPart()`: the last step of house rule 8. The part file is complete and closed: verify its
 * checksum (discarding it on a mismatch), and only then rename `OUT.part` to `OUT` and remove the
 * journals.
 */
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ChecksumMismatchError, FileSystemError } from '../../errors.js';
import type { Checksum } from '../types.js';
import { hashFile } from './checksum.js';
import { fsError } from './fs-error.js';
import { removeJournal } from './journal-file.js';
import { discardPart, fileExists, type PartPaths } from './part-paths.js';
import { syncDirectory } from './sync-directory.js';

export async function commitPart(
  paths: PartPaths,
  options: {
    output: string;
    /** Replace an existing `output`. */
    force: boolean;
    checksum: Checksum | undefined;
    /** The digest computed while downloading, if any; else the file is hashed here. */
    actual: string | undefined;
    /** Make the rename durable (fsync the folder). */
    sync: boolean;
  },
): Promise<void> {
  const { output, checksum } = options;
  if (checksum !== undefined) {
    const actual = options.actual ?? (await hashFile(paths.part, checksum.algorithm));
    if (actual !== checksum.hex) {
      await discardPart(paths);
      throw new ChecksumMismatchError(
        `Cannot verify "${output}": ${checksum.algorithm} is ${actual}, expected ${checksum.hex}; the download was discarded`,
        { expected: checksum.hex, actual },
      );
    }
  }
  if (!options.force && (await fileExists(output))) {
    throw new FileSystemError(
      `Cannot save "${output}": the file exists (use --force to replace it)`,
    );
  }
  try {
    await rename(paths.part, output);
  } catch (error) {
    throw fsError('rename', paths.part, error);
  }
  if (options.sync) await syncDirectory(dirname(output));
  await removeJournal(paths.live);
  await removeJournal(paths.journal);
}
