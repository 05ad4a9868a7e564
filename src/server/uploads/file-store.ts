/**
 * The upload store on the served folder's own file system (issue 12), so that completing an upload
 * is one link() into place (place.ts). It lives in `DIR/.ranged-uploads/`, which no URL reaches and
 * no listing shows (inside-root.ts UPLOAD_STORE_NAME):
 *
 *   u/ID/info.json   the record (core/upload/record.ts), replaced atomically (temp, fsync, rename)
 *   u/ID/data        the bytes received so far
 *   u/ID/pending     while a chunk with a checksum is unverified: the offset it started at
 *   f/ID.json        the record of a finished upload (complete, expired, terminated), kept a while
 *                    so that a client whose last response was lost learns what happened
 *   t/HASH           a reservation of a target path (holds the ID): one unfinished upload per path
 *
 * Every method that changes an upload runs under its lock (locks.ts), taken by the caller.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { open, readdir, readFile, rm, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { bootId } from '../../boot-id.js';
import { claimableOffset, newRecord, type UploadRecord } from '../../core/upload/record.js';
import { roomVerdict } from '../../core/upload/room.js';
import { UPLOAD_STORE_NAME } from '../inside-root.js';
import { writeBody } from './body-writer.js';
import { Checkpoints } from './checkpoints.js';
import { chunkChecksum, discardedAs } from './chunk-checksum.js';
import { checkTarget, placeFile, syncFolder } from './place.js';
import {
  fileStats,
  readPending,
  readRecord,
  reservationPath,
  writeRecord,
  writeRecordAt,
} from './record-files.js';
import type {
  Appended,
  AppendOptions,
  Created,
  FileStoreOptions,
  Loaded,
  NewUpload,
  TargetCheck,
  UploadStore,
} from './store-types.js';

export { newUploadId } from './record-files.js';
export type * from './store-types.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export class FileUploadStore implements UploadStore {
  readonly root: string;
  readonly path: string;
  readonly options: FileStoreOptions;
  readonly #boot: string;
  /** The checkpoints running in the background (checkpoints.ts). */
  readonly #checkpoints: Checkpoints;

  /** `root` is the served folder's real path. */
  constructor(root: string, options: FileStoreOptions) {
    this.root = root;
    this.path = `${root}/${UPLOAD_STORE_NAME}`;
    this.options = options;
    this.#boot = bootId() ?? 'unknown';
    this.#checkpoints = new Checkpoints(this.#boot, options.now);
  }

  /** Creates the store's folders; refuses a store that is a symlink or not a folder. */
  open(): void {
    for (const sub of ['', '/u', '/f', '/t']) {
      const path = `${this.path}${sub}`;
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!lstatSync(path).isDirectory()) {
        throw new Error(`Cannot keep uploads in ${path}: not a folder`);
      }
    }
  }

  /** True if `id` could name an upload (checked before any path is built from it). */
  static isId(id: string): boolean {
    return ID_PATTERN.test(id);
  }

  isId(id: string): boolean {
    return FileUploadStore.isId(id);
  }

  async checkTarget(target: readonly string[]): Promise<TargetCheck> {
    return checkTarget(this.root, target, this.options.dotfiles);
  }

  #dir(id: string): string {
    return `${this.path}/u/${id}`;
  }

  /** The upload `id`: active (with the offset it may claim) or finished; undefined if unknown. */
  async load(id: string): Promise<Loaded | undefined> {
    if (!FileUploadStore.isId(id)) return undefined;
    const finished = await readRecord(`${this.path}/f/${id}.json`);
    if (finished !== undefined) {
      const length = finished.length ?? finished.durable;
      return { record: finished, offset: length, stored: length };
    }
    const record = await readRecord(`${this.#dir(id)}/info.json`);
    if (record === undefined) return undefined;
    const data = await fileStats(`${this.#dir(id)}/data`);
    if (data === undefined) return undefined;
    const pending = await readPending(`${this.#dir(id)}/pending`);
    const { size } = data;
    const offset = claimableOffset(record, { size, pending, boot: this.#boot });
    // Bytes written since the last checkpoint are activity too (no record rewrite per PATCH).
    const activity = Math.max(record.activity, data.mtimeMs);
    return { record: { ...record, activity }, offset, stored: size };
  }

  /** Creates an upload: checks and reserves its target, then makes its record and data file. */
  async create(input: NewUpload): Promise<Created> {
    const now = this.options.now();
    const full = await this.#checkRoom(input.length ?? 0);
    if (full !== undefined) return full;
    const id = input.id;
    if (!FileUploadStore.isId(id)) throw new TypeError(`FileUploadStore: bad id ${id}`);
    if (input.target !== null) {
      const reserved = await this.#reserve(input.target, id);
      if (reserved !== undefined) return reserved;
    }
    const record = newRecord(input, { boot: this.#boot, now, synced: 0 });
    const dir = this.#dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
      // Private in its 0700 folder; the umask's mode, like any new file, once linked in place.
      await writeFile(`${dir}/data`, new Uint8Array(0), { flag: 'wx', mode: 0o666 });
      await writeRecord(dir, record);
      syncFolder(`${this.path}/u`);
    } catch (error) {
      await this.#discard(record);
      throw error;
    }
    return { kind: 'created', record };
  }

  /** Refuses a new upload over the count or byte limits, or when the disk cannot hold it. */
  async #checkRoom(length: number): Promise<Created | undefined> {
    const ids = await readdir(`${this.path}/u`);
    let claimed = length;
    if (ids.length < this.options.maxUploads) {
      for (const id of ids) {
        const loaded = await this.load(id).catch(() => undefined);
        if (loaded?.record.status === 'active' && loaded.record.length !== null) {
          claimed += loaded.record.length - loaded.offset;
        }
      }
    }
    const fs = await statfs(this.path);
    const verdict = roomVerdict(
      { count: ids.length, claimed, free: fs.bavail * fs.bsize },
      this.options,
    );
    return verdict === undefined ? undefined : { kind: 'full', ...verdict };
  }

  /** Reserves `target` for upload `id`, or says why it cannot be. */
  async #reserve(target: string[], id: string): Promise<Created | undefined> {
    const checked = checkTarget(this.root, target, this.options.dotfiles);
    if (checked.kind === 'exists') return { kind: 'taken', reason: `${target.join('/')} exists` };
    if (checked.kind === 'blocked') return { kind: 'blocked', reason: checked.reason };
    const path = reservationPath(this.path, target);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, id, { flag: 'wx', mode: 0o600 });
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // A reservation whose upload is no longer unfinished is stale (a crash between steps).
      const holder = await readFile(path, 'utf8').catch(() => '');
      const loaded = await this.load(holder);
      if (loaded?.record.status === 'active' || loaded?.record.concat?.kind === 'partial') {
        return { kind: 'taken', reason: `another upload to ${target.join('/')} is unfinished` };
      }
      await unlink(path).catch(() => {});
    }
    return { kind: 'taken', reason: `another upload to ${target.join('/')} is unfinished` };
  }

  /** Frees the target of `record` if it still holds it. */
  async #release(record: UploadRecord): Promise<void> {
    if (record.target === null) return;
    const path = reservationPath(this.path, record.target);
    const holder = await readFile(path, 'utf8').catch(() => undefined);
    if (holder === record.id) await unlink(path).catch(() => {});
  }

  /** Sets a deferred length (tus creation-defer-length). */
  async declareLength(record: UploadRecord, length: number): Promise<UploadRecord> {
    await this.#checkpoints.settled(record.id);
    const next = { ...record, length };
    await writeRecord(this.#dir(record.id), next);
    return next;
  }

  /**
   * Appends the body at `offset` (the upload's claimable offset): cuts off anything past it first,
   * stores at most `limit` bytes, verifies a checksum before the bytes count, syncs, and records the
   * new offset. Bytes of an interrupted body without checksum are kept (tus 1.0.0 §PATCH: "the
   * Server SHOULD accept [...] and store as much of the received data as possible").
   */
  async append(
    record: UploadRecord,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    options: AppendOptions,
  ): Promise<{ record: UploadRecord; appended: Appended }> {
    const dir = this.#dir(record.id);
    const fh = await open(`${dir}/data`, 'r+');
    let appended: Appended;
    let next = record;
    try {
      await fh.truncate(offset);
      const checksum = options.checksum;
      if (checksum !== undefined) await writeFile(`${dir}/pending`, String(offset));
      const hash = chunkChecksum(checksum);
      let tooLarge = false;
      let failure: unknown;
      try {
        tooLarge = await writeBody(fh, offset, body, options, (piece) => hash?.update(piece));
      } catch (error) {
        failure = error;
      }
      const size = (await fh.stat()).size;
      const noSpace = (failure as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC';
      if (checksum !== undefined) {
        if (!hash?.matched({ failure, tooLarge })) {
          // tus 1.0.0 §Checksum: "the Server [...] MUST discard the chunk and not update the offset".
          await fh.truncate(offset);
          await unlink(`${dir}/pending`).catch(() => {});
          return {
            record,
            appended: { kind: discardedAs({ failure, tooLarge, noSpace }), offset },
          };
        }
      }
      // A checkpoint (record.ts): when the last is older than the sync interval, when the body
      // stopped early, or in a new boot. Durable before declared (DESIGN.md rule 8): the bytes are
      // synced, then the record says so. Between checkpoints the same boot trusts the data size.
      const now = this.options.now();
      // A checkpoint (record.ts): durable before declared (DESIGN.md rule 8), the bytes synced,
      // then the record says so. When the body stopped early or in a new boot, at once; while
      // PATCHes stream in, once per sync interval, in the background (#checkpointSoon()), so no
      // PATCH waits for the disk. Between checkpoints the same boot trusts the data size.
      if (failure !== undefined || record.boot !== this.#boot) {
        await this.#checkpoints.settled(record.id);
        await fh.datasync();
        next = { ...record, durable: size, boot: this.#boot, activity: now, synced: now };
        await writeRecord(dir, next).catch((error: unknown) => {
          // A full disk may refuse the record: the old one stays true (it claims less).
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        });
      } else {
        const last = Math.max(record.synced, this.#checkpoints.startedAt(record.id));
        if (now - last >= this.options.syncInterval) this.#checkpoints.soon(record.id, dir, size);
      }
      if (checksum !== undefined) await unlink(`${dir}/pending`).catch(() => {});
      if (noSpace) appended = { kind: 'no-space', offset: size };
      else if (tooLarge) appended = { kind: 'too-large', offset: size };
      else if (failure !== undefined) appended = { kind: 'interrupted', offset: size };
      else appended = { kind: 'stored', offset: size };
    } finally {
      await fh.close();
    }
    return { record: next, appended };
  }

  /**
   * Completes an upload whose every byte is stored: a partial upload (no target) stays for its
   * final concatenation; any other appears at its target at once (placeFile()), then its data and
   * reservation go and a finished record stays.
   */
  async complete(
    record: UploadRecord,
  ): Promise<
    { kind: 'complete'; record: UploadRecord } | { kind: 'exists' | 'blocked'; reason: string }
  > {
    await this.#checkpoints.settled(record.id);
    const now = this.options.now();
    const dir = this.#dir(record.id);
    if (record.target === null) {
      const next: UploadRecord = { ...record, status: 'complete', activity: now };
      await writeRecord(dir, next);
      return { kind: 'complete', record: next };
    }
    // Every byte is durable before the file appears (between checkpoints the tail may not be).
    const data = await open(`${dir}/data`, 'r+');
    try {
      await data.datasync();
    } finally {
      await data.close();
    }
    const placed = placeFile(this.root, `${dir}/data`, record.target, this.options.dotfiles);
    if (placed.kind === 'exists')
      return { kind: 'exists', reason: `${record.target.join('/')} exists` };
    if (placed.kind === 'blocked') return placed;
    const next: UploadRecord = { ...record, status: 'complete', activity: now };
    await this.#finish(next);
    return { kind: 'complete', record: next };
  }

  /** Termination (or expiry): the data goes, a finished record says what happened. */
  async end(record: UploadRecord, status: 'terminated' | 'expired'): Promise<void> {
    await this.#checkpoints.settled(record.id);
    await this.#finish({ ...record, status, activity: this.options.now() });
  }

  /** Writes the finished record, then removes the upload's folder and reservation. */
  async #finish(record: UploadRecord): Promise<void> {
    await writeRecordAt(`${this.path}/f`, `${record.id}.json`, record);
    await this.#discard(record);
  }

  async #discard(record: UploadRecord): Promise<void> {
    await rm(this.#dir(record.id), { recursive: true, force: true });
    await this.#release(record);
  }

  /**
   * Concatenates complete partial uploads into the new upload `record` (tus concatenation), in
   * order, then syncs; the caller completes it.
   */
  async concatenate(
    record: UploadRecord,
    partials: readonly UploadRecord[],
  ): Promise<UploadRecord> {
    const dir = this.#dir(record.id);
    const fh = await open(`${dir}/data`, 'r+');
    try {
      let at = 0;
      for (const partial of partials) {
        const source = await open(`${this.#dir(partial.id)}/data`, 'r');
        try {
          const length = partial.length ?? 0;
          const stream = source.createReadStream({ start: 0, end: length - 1, autoClose: false });
          const signal = new AbortController().signal;
          if (length > 0) await writeBody(fh, at, stream, { limit: length, signal }, () => {});
          at += length;
        } finally {
          await source.close();
        }
      }
      await fh.datasync();
      const next = { ...record, length: at, durable: at, activity: this.options.now() };
      await writeRecord(dir, next);
      return next;
    } finally {
      await fh.close();
    }
  }

  /** The ids of unfinished uploads (folders in u/). */
  async activeIds(): Promise<string[]> {
    return (await readdir(`${this.path}/u`)).filter((id) => FileUploadStore.isId(id));
  }

  /** The ids of finished records (f/). */
  async finishedIds(): Promise<string[]> {
    const names = await readdir(`${this.path}/f`);
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
  }

  /** Removes a finished record (the sweeper, once it is old). */
  async forget(id: string): Promise<void> {
    if (FileUploadStore.isId(id)) await unlink(`${this.path}/f/${id}.json`).catch(() => {});
  }

  /** Removes an upload folder without a readable record (a creation cut short), if it is old. */
  async removeBroken(id: string, olderThan: number): Promise<void> {
    if (!FileUploadStore.isId(id)) return;
    const dir = this.#dir(id);
    if ((await readRecord(`${dir}/info.json`)) !== undefined) return;
    const stats = await stat(dir).catch(() => undefined);
    if (stats !== undefined && stats.mtimeMs < olderThan)
      await rm(dir, { recursive: true, force: true });
  }
}
