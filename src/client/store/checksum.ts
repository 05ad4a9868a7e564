/** `--checksum ALGO:HEX`: parsing and hashing a finished file. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { Checksum, ChecksumAlgorithm } from '../types.js';
import { fsError } from './fs-error.js';

const HEX_LENGTH: Record<ChecksumAlgorithm, number> = {
  md5: 32,
  sha1: 40,
  sha256: 64,
  sha512: 128,
};

/** Parses `sha256:HEX` (also sha1, md5, sha512; `=` accepted as separator); UsageError if bad. */
export function parseChecksum(spec: string): Checksum {
  const m = /^([a-z0-9-]+)[:=]([0-9a-fA-F]+)$/i.exec(spec.trim());
  const algorithm = m?.[1]?.toLowerCase().replace('-', '') as ChecksumAlgorithm | undefined;
  if (m === null || algorithm === undefined || !(algorithm in HEX_LENGTH)) {
    throw new UsageError(
      `Cannot use checksum "${spec}": expected ALGO:HEX with ALGO one of sha256, sha1, md5, sha512`,
    );
  }
  const hex = (m[2] ?? '').toLowerCase();
  if (hex.length !== HEX_LENGTH[algorithm]) {
    throw new UsageError(
      `Cannot use checksum "${spec}": a ${algorithm} digest has ${HEX_LENGTH[algorithm]} hex digits, got ${hex.length}`,
    );
  }
  return { algorithm, hex };
}

/** Hashes a file by streaming it (bounded memory). */
export async function hashFile(path: string, algorithm: ChecksumAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
    }
  } catch (error) {
    throw fsError('read', path, error);
  }
  return hash.digest('hex');
}
