/**
 * `PrefixDigest`: the `--checksum` hash, computed while downloading over the contiguous finished
 * prefix `[0, prefix)` of the part file, so the file is not read again at the end.
 *
 * Bytes are hashed once, in file order. A write that extends the prefix from exactly where the
 * hash stands is hashed from its buffer as it is written; when the prefix jumps past bytes that
 * other connections wrote (or a resume starts with a held prefix), they are read back from the
 * part file in big positional reads. Bytes written twice (a raced tail) are hashed once, because
 * only bytes past `hashed` are ever fed to the hash. `reset()` starts over (a fresh part file, or
 * a stream that must be taken again from byte 0).
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { ChecksumAlgorithm } from '../types.js';

/** Size of one read-back from the part file. */
const READ_BYTES = 8 * 1024 * 1024;

/** Where the bytes to catch up on come from: the open part file and its finished prefix. */
export interface DigestSource {
  fh: FileHandle;
  /** End of the contiguous finished prefix `[0, prefix)` (bytes written, in any order). */
  prefix(): number;
}

export class PrefixDigest {
  readonly algorithm: ChecksumAlgorithm;
  #hash: Hash;
  #hashed = 0;
  /** Bumped by `reset()`: a read-back in flight for an older generation is dropped. */
  #generation = 0;
  #source: DigestSource | undefined;
  /** The read-back in progress; undefined when the hash is caught up with what it was told. */
  #pending: Promise<void> | undefined;
  /** A read-back failed: the digest cannot be trusted until `reset()`; the caller hashes the
   * file instead. */
  #broken = false;

  constructor(algorithm: ChecksumAlgorithm) {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  /** Bytes `[0, hashed)` are in the hash. */
  get hashed(): number {
    return this.#hashed;
  }

  /** Forgets every byte hashed (their content is about to change or be fetched again). */
  reset(): void {
    this.#hash = createHash(this.algorithm);
    this.#hashed = 0;
    this.#generation++;
    this.#broken = false;
  }

  /**
   * Hashes from `source` from now on (one pass over an open part file). A prefix shorter than
   * what is hashed means the held bytes are not those that were hashed: start over. Catching up
   * on the held prefix starts at once, in the background.
   */
  attach(source: DigestSource): void {
    this.#source = source;
    if (this.#broken || source.prefix() < this.#hashed) this.reset();
    this.#kick();
  }

  /** Waits for a read-back in progress and stops reading from the source (before it closes). */
  async detach(): Promise<void> {
    this.#source = undefined;
    await this.#settle();
  }

  /**
   * Called right after `data` was written at `at` (and the finished spans updated): hashes the
   * part of it that extends the hash, else starts reading back what the prefix now covers.
   * Synchronous, so a reused read buffer may be passed.
   */
  wrote(data: Uint8Array, at: number): void {
    const hashed = this.#hashed;
    if (
      this.#pending === undefined &&
      !this.#broken &&
      at <= hashed &&
      at + data.length > hashed &&
      this.#source !== undefined &&
      this.#source.prefix() >= at + data.length
    ) {
      this.#hash.update(at === hashed ? data : data.subarray(hashed - at));
      this.#hashed = at + data.length;
    }
    this.#kick();
  }

  /**
   * The hex digest of `[0, size)`, after catching up on the prefix; undefined when the hash does
   * not cover exactly `size` bytes (a failed read-back), and the file must be hashed instead.
   */
  async digest(size: number): Promise<string | undefined> {
    this.#kick();
    await this.#settle();
    if (this.#broken || this.#hashed !== size) return undefined;
    return this.#hash.copy().digest('hex');
  }

  async #settle(): Promise<void> {
    while (this.#pending !== undefined) await this.#pending;
  }

  /** Starts a read-back when the prefix is ahead of the hash and none is running. */
  #kick(): void {
    const source = this.#source;
    if (this.#pending !== undefined || this.#broken || source === undefined) return;
    if (source.prefix() <= this.#hashed) return;
    // #catchUp() always awaits a read before it can clear #pending, so this assignment is first.
    this.#pending = this.#catchUp(source);
  }

  async #catchUp(source: DigestSource): Promise<void> {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    try {
      for (;;) {
        if (this.#source !== source) break;
        const want = source.prefix() - this.#hashed;
        if (want <= 0) break;
        const generation = this.#generation;
        const at = this.#hashed;
        const { bytesRead } = await source.fh.read(buffer, 0, Math.min(want, READ_BYTES), at);
        if (generation !== this.#generation || at !== this.#hashed) continue;
        if (bytesRead <= 0) throw new Error(`Cannot read the part file at byte ${at}: it ended`);
        this.#hash.update(buffer.subarray(0, bytesRead));
        this.#hashed = at + bytesRead;
      }
    } catch {
      this.#broken = true;
    }
    // Cleared in the same turn as the last prefix check: no write can slip in between.
    this.#pending = undefined;
  }
}
