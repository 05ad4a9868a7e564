/**
 * `PartStore`: the one owner of a pass's part file. It alone holds the file handle and the spans
 * written (`done`), made durable (`synced`) and being saved, behind a small API: write at an
 * offset, save (synced or live), forget, finish, discard. The commit order is house rule 8:
 *
 * - a synced save: the spans written so far are read, the part file is fdatasync'd, and only then
 *   does the durable journal (`OUT.part.json`) claim them (written to a temporary file, fsync'd,
 *   renamed). A crash of the machine at any point leaves a durable journal that claims only bytes
 *   on disk.
 * - a live save: the live journal (`OUT.part.live.json`) claims every span written so far, with
 *   this boot's id, renamed into place without any fsync. It costs no disk flush, so it runs often
 *   (a kill -9 re-fetches little), and it never touches the durable journal. The two kinds write
 *   different files: a long fdatasync never holds up live saves.
 * - finishing: truncate, sync (with `sync`, or when bytes were overwritten), verify the checksum,
 *   and only then rename `OUT.part` to `OUT`.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Journal } from '../../core/journal.js';
import { addSpan, type Span, spanBytes } from '../../core/segments.js';
import type { Checksum } from '../types.js';
import { commitPart } from './commit-part.js';
import { fsError } from './fs-error.js';
import { removeJournal, saveJournal } from './journal-file.js';
import { discardPart, type PartPaths } from './part-paths.js';
import type { PrefixDigest } from './prefix-digest.js';
import { syncDirectory } from './sync-directory.js';

export interface PartStoreOptions {
  paths: PartPaths;
  /** The journal was loaded from disk (its part file is reused); false: a fresh part file. */
  resuming: boolean;
  /** This machine's boot id; undefined: unknown, so every save syncs. */
  boot: string | undefined;
  /** Sync on every save and before the rename. */
  sync: boolean;
  /** Without `sync`: period (ms) of the synced saves. */
  syncInterval: number;
  /** A save after this many new bytes per writer… */
  saveBytes: number;
  /** …but at most every `saveInterval / 20` ms. */
  saveInterval: number;
  /** Monotonic clock in ms. */
  now: () => number;
  /** The `--checksum` hash, fed the finished prefix as it grows. */
  digest: PrefixDigest | undefined;
  /** Connections writing now (a byte-triggered save waits for `saveBytes` from each). */
  writers: () => number;
  /** A save nobody awaits failed: the pass must stop. */
  onSaveError: (error: unknown) => void;
}

export class PartStore {
  readonly #fh: FileHandle;
  readonly #o: PartStoreOptions;
  /** Size and validators; its own `done` is not kept up to date (`#done` is). */
  #journal: Journal;
  /** Bytes written (not necessarily durable yet). */
  #done: Span[];
  /** Bytes fdatasync'd: what the durable journal claims. Always within `#done`. */
  #synced: Span[];
  #syncedAt: number;
  /** Bumped when bytes are forgotten: a synced save in flight keeps what `forget()` left. */
  #generation = 0;
  /** Bytes once held were forgotten and will be overwritten: sync before the rename. */
  #syncBeforeRename = false;
  /** An fdatasync failed: no journal claims any byte beyond `#synced` from then on. */
  #syncFailed = false;
  #unsaved = 0;
  #savedAt: number;
  #syncing: Promise<void> | undefined;
  #liveSaving: Promise<void> | undefined;
  #closed = false;

  private constructor(fh: FileHandle, journal: Journal, options: PartStoreOptions) {
    this.#fh = fh;
    this.#o = options;
    this.#journal = journal;
    this.#done = journal.done.map((s) => ({ ...s }));
    this.#synced = journal.done;
    this.#syncedAt = options.now();
    this.#savedAt = options.now();
  }

  /**
   * Opens `OUT.part` for a pass. A new journal (`resuming` false) gets a fresh part file sized to
   * the file, made durable with its folder, and then the journal is written: a journal never
   * names a part file that a crash could lose. A resumed part file is fdatasync'd first: the bytes
   * an earlier process of this boot wrote (what the live journal claims) are then durable too,
   * and the durable journal claims every held byte.
   */
  static async open(journal: Journal, options: PartStoreOptions): Promise<PartStore> {
    const { paths, resuming } = options;
    let fh: FileHandle;
    try {
      fh = await open(paths.part, resuming ? 'r+' : 'w+');
    } catch (error) {
      throw fsError('write', paths.part, error);
    }
    try {
      try {
        if (resuming) await fh.datasync();
        else {
          if (journal.size !== undefined) await fh.truncate(journal.size);
          await fh.sync();
          await syncDirectory(dirname(paths.part));
        }
      } catch (error) {
        // Bytes the live journal claims may be lost: it must not be trusted again.
        if (resuming) await removeJournal(paths.live).catch(() => undefined);
        throw fsError('write', paths.part, error);
      }
      // A new part file, or every held byte durable now: the durable journal says so.
      await saveJournal(paths.journal, { ...journal, boot: undefined });
    } catch (error) {
      await fh.close();
      throw error;
    }
    const store = new PartStore(fh, journal, options);
    const digest = options.digest;
    if (digest !== undefined) {
      // A fresh part file holds none of the bytes hashed so far.
      if (!resuming) digest.reset();
      digest.attach({ fh, prefix: () => store.heldPrefix });
    }
    return store;
  }

  /** Bytes written, sorted and merged. */
  get done(): readonly Span[] {
    return this.#done;
  }

  get heldBytes(): number {
    return spanBytes(this.#done);
  }

  /** End of the contiguous finished prefix `[0, heldPrefix)`. */
  get heldPrefix(): number {
    const first = this.#done[0];
    return first !== undefined && first.start === 0 ? first.end : 0;
  }

  /** The complete size; undefined while a stream of unknown length runs. */
  get size(): number | undefined {
    return this.#journal.size;
  }

  /** A stream of unknown length ended after `size` bytes. */
  setSize(size: number): void {
    this.#journal = { ...this.#journal, size };
  }

  /** Closed: nothing more is written or saved. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes `data` at `at` and records it as held; saves (in the background) after `saveBytes` per
   * writer, but not more often than every 20th of `saveInterval`: on a fast link a kill -9 then
   * re-fetches about 50 ms of data, not 1 MiB, and the journal is not rewritten thousands of times
   * a second. `data` may be a reused buffer: it is not kept.
   */
  async write(data: Buffer, at: number): Promise<void> {
    let offset = 0;
    try {
      while (offset < data.length) {
        const { bytesWritten } = await this.#fh.write(
          data,
          offset,
          data.length - offset,
          at + offset,
        );
        offset += bytesWritten;
      }
    } catch (error) {
      throw fsError('write', this.#o.paths.part, error);
    }
    this.#done = addSpan(this.#done, { start: at, end: at + data.length });
    this.#o.digest?.wrote(data, at);
    this.#unsaved += data.length;
    if (
      this.#unsaved >= this.#o.saveBytes * Math.max(1, this.#o.writers()) &&
      this.#o.now() - this.#savedAt >= this.#o.saveInterval / 20
    ) {
      this.saveSoon();
    }
  }

  /** Whether every save must sync: with `sync`, and where the boot id is unknown. */
  get #syncAlways(): boolean {
    return this.#o.sync || this.#o.boot === undefined;
  }

  /**
   * The periodic save (timer and byte-count triggers): a synced save when one is due (every
   * `syncInterval`, or every time with `sync`), else a live one; skipped while one of the same
   * kind is running. A failure goes to `onSaveError`.
   */
  saveSoon(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    this.#unsaved = 0;
    this.#savedAt = now;
    const always = this.#syncAlways;
    if (this.#syncing === undefined && (always || now - this.#syncedAt >= this.#o.syncInterval)) {
      this.#syncing = this.#inBackground(this.#syncedSave(), () => {
        this.#syncing = undefined;
      });
    } else if (!always && this.#liveSaving === undefined) {
      this.#liveSaving = this.#inBackground(this.#liveSave(), () => {
        this.#liveSaving = undefined;
      });
    }
  }

  #inBackground(save: Promise<void>, done: () => void): Promise<void> {
    return save.catch((error: unknown) => this.#o.onSaveError(error)).finally(done);
  }

  /**
   * Saves now, after the saves in flight: synced with `options.sync` (or `sync`), else live. Used
   * when the connections have stopped.
   */
  async save(options: { sync?: boolean } = {}): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#closed) return;
      this.#unsaved = 0;
      this.#savedAt = this.#o.now();
      if (options.sync === true || this.#syncAlways) await this.#syncedSave();
      else await this.#liveSave();
    });
  }

  /**
   * Runs `save` after the saves in flight, with both kinds held off meanwhile: no two saves ever
   * write the same journal at once.
   */
  async #exclusive(save: () => Promise<void>): Promise<void> {
    await this.#settled();
    const saving = save();
    const held = saving
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#syncing = undefined;
        this.#liveSaving = undefined;
      });
    this.#syncing = held;
    this.#liveSaving = held;
    return saving;
  }

  /** Resolves when no save is in flight (their failures went to `onSaveError`). */
  async #settled(): Promise<void> {
    while (this.#syncing !== undefined || this.#liveSaving !== undefined) {
      await Promise.all([this.#syncing, this.#liveSaving]);
    }
  }

  async #liveSave(): Promise<void> {
    const { boot, paths } = this.#o;
    if (boot === undefined || this.#syncFailed) return;
    await saveJournal(paths.live, { ...this.#journal, done: this.#done, boot }, { sync: false });
    // An fdatasync failed while this was written: the claim must not stay.
    if (this.#syncFailed) await removeJournal(paths.live);
  }

  async #syncedSave(): Promise<void> {
    // After a failed fdatasync a later one may succeed without the lost pages: claim nothing more.
    if (this.#syncFailed) return;
    const { paths } = this.#o;
    const done = this.#done;
    const generation = this.#generation;
    this.#syncedAt = this.#o.now();
    try {
      await this.#fh.datasync();
    } catch (error) {
      // The failed pages may be dropped, and Linux reports the error once: no journal may go on
      // claiming bytes that were never synced (a live save in flight removes its own claim).
      this.#syncFailed = true;
      await removeJournal(paths.live).catch(() => undefined);
      throw fsError('write', paths.part, error);
    }
    // Bytes forgotten while the data was synced (`forget()`) stay forgotten.
    if (this.#generation === generation) this.#synced = done;
    await saveJournal(paths.journal, { ...this.#journal, done: this.#synced, boot: undefined });
  }

  /**
   * Forgets the bytes held from `keep` on (a stream starts again and will overwrite them): both
   * journals stop claiming them before this resolves, so before anything new is written there
   * (claims only shrink, so no data needs syncing), and the final file will be synced before the
   * rename, so that a crash cannot leave old bytes where new writes were lost. The checksum's
   * hash forgets them too.
   */
  async forget(keep: number): Promise<void> {
    const digest = this.#o.digest;
    if (digest !== undefined && (keep === 0 || digest.hashed > keep)) digest.reset();
    const clip = (spans: readonly Span[]) =>
      spans
        .filter((s) => s.start < keep)
        .map((s) => ({ start: s.start, end: Math.min(s.end, keep) }));
    const done = clip(this.#done);
    if (spanBytes(done) === spanBytes(this.#done)) return; // nothing held from `keep` on
    this.#done = done;
    this.#synced = clip(this.#synced);
    this.#generation++;
    this.#syncBeforeRename = true;
    await this.#exclusive(async () => {
      const { paths } = this.#o;
      await saveJournal(paths.journal, { ...this.#journal, done: this.#synced, boot: undefined });
      await this.#liveSave();
    });
  }

  /** Stops saving, waits for the saves in flight and closes the part file (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true; // no save starts from now on
    await this.#settled();
    await this.#o.digest?.detach();
    await this.#fh.close();
  }

  /** Closes, then deletes the part file and both journals: the data is unusable. */
  async discard(): Promise<void> {
    await this.close();
    await discardPart(this.#o.paths);
  }

  /**
   * Every byte is held: truncate to the size, sync (with `sync`, or when bytes were overwritten),
   * verify the checksum (`onVerifying` first), rename `OUT.part` to `output`, remove the journals.
   * Resolves with the size.
   */
  async finish(options: {
    output: string;
    force: boolean;
    checksum: Checksum | undefined;
    onVerifying: () => void;
  }): Promise<number> {
    const { output, checksum } = options;
    const { paths } = this.#o;
    const size = this.#journal.size ?? spanBytes(this.#done);
    const sync = this.#syncAlways || this.#syncBeforeRename;
    let actual: string | undefined;
    if (!this.#closed) {
      try {
        // A file of unknown length may have held a longer earlier stream.
        if ((await this.#fh.stat()).size !== size) await this.#fh.truncate(size);
        if (sync) {
          await this.#fh.sync().catch(async (error: unknown) => {
            // Pages that failed to reach the disk may be dropped: the live claim must go.
            await removeJournal(paths.live).catch(() => undefined);
            throw error;
          });
        }
        // The hash has followed the prefix; only what it has not reached yet is read here.
        actual = await this.#o.digest?.digest(size);
      } catch (error) {
        throw fsError('write', paths.part, error);
      } finally {
        this.#closed = true;
        await this.#o.digest?.detach();
        await this.#fh.close();
      }
      if (sync) {
        const all = [{ start: 0, end: size }];
        await saveJournal(paths.journal, { ...this.#journal, size, done: all, boot: undefined });
      }
    }
    options.onVerifying();
    await commitPart(paths, { output, force: options.force, checksum, actual, sync });
    return size;
  }
}
