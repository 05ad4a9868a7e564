/**
 * A tus checksum (Upload-Checksum) checked while the body streams, for both stores: tus 1.0.0
 * §Checksum, the Server "MUST discard the chunk and not update the offset" unless the whole chunk
 * arrived and its digest matched.
 */
import { createHash, type Hash } from 'node:crypto';

export interface ChunkChecksum {
  /** Feeds a piece of the body, in order. */
  update(piece: Uint8Array): void;
  /** True only if the whole body arrived (no failure, not past the limit) and its digest matched. */
  matched(body: { failure: unknown; tooLarge: boolean }): boolean;
}

/** The checker of a declared checksum; undefined when the request declared none. */
export function chunkChecksum(
  checksum: { algorithm: string; digest: Uint8Array } | undefined,
): ChunkChecksum | undefined {
  if (checksum === undefined) return undefined;
  const hash: Hash = createHash(checksum.algorithm);
  return {
    update: (piece) => hash.update(piece),
    matched: ({ failure, tooLarge }) =>
      failure === undefined && !tooLarge && Buffer.from(checksum.digest).equals(hash.digest()),
  };
}

/** What a discarded body with a checksum is answered as: why it did not count. */
export function discardedAs(body: {
  failure: unknown;
  tooLarge: boolean;
  noSpace?: boolean;
}): 'no-space' | 'too-large' | 'checksum-mismatch' | 'interrupted' {
  if (body.noSpace === true) return 'no-space';
  if (body.tooLarge) return 'too-large';
  return body.failure === undefined ? 'checksum-mismatch' : 'interrupted';
}
