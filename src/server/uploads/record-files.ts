/**
 * The files of one upload in the store: its record (read, and replaced atomically: a synced
 * temporary file renamed over it), the size of its data, and its pending-checksum marker.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { decodeRecord, encodeRecord, type UploadRecord } from '../../core/upload/record.js';
import { isMissing } from './place.js';

export async function readRecord(path: string): Promise<UploadRecord | undefined> {
  try {
    return decodeRecord(await readFile(path, 'utf8'));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** The size and last write (ms) of a file, or undefined when it is not there. */
export async function fileStats(
  path: string,
): Promise<{ size: number; mtimeMs: number } | undefined> {
  const fh = await open(path, 'r').catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (fh === undefined) return undefined;
  try {
    const { size, mtimeMs } = await fh.stat();
    return { size, mtimeMs: Math.floor(mtimeMs) };
  } finally {
    await fh.close();
  }
}

export async function readPending(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  return Number(text);
}

export function writeRecord(dir: string, record: UploadRecord): Promise<void> {
  return writeRecordAt(dir, 'info.json', record);
}

/** Replaces `dir/name` atomically: a synced temporary file renamed over it. */
export async function writeRecordAt(
  dir: string,
  name: string,
  record: UploadRecord,
): Promise<void> {
  const temp = `${dir}/.${name}.${randomBytes(6).toString('hex')}`;
  const fh = await open(temp, 'wx', 0o600);
  try {
    await fh.writeFile(encodeRecord(record));
    await fh.sync();
  } catch (error) {
    // A full disk: no half-written temporary file is left behind (nothing would ever remove it).
    await fh.close();
    await unlink(temp).catch(() => {});
    throw error;
  }
  await fh.close();
  try {
    await rename(temp, `${dir}/${name}`);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** The reservation file of a target path in the store at `store` (t/HASH). */
export function reservationPath(store: string, target: readonly string[]): string {
  return `${store}/t/${createHash('sha256').update(target.join('/')).digest('hex')}`;
}

/** A new upload id: 128 random bits, URL-safe (also the last segment of its URL). */
export function newUploadId(): string {
  return randomBytes(16).toString('base64url');
}
