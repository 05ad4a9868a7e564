/**
 * `loadTrustedJournal()`: the journal of an earlier run, if its bytes can be trusted (core
 * `trustJournal()` decides). Untrusted journals are reported, or with `force` set aside.
 */
import { stat } from 'node:fs/promises';
import { type Journal, liveVerdict } from '../../core/journal.js';
import { trustJournal } from '../../core/resume.js';
import { spanBytes } from '../../core/segments.js';
import { JournalError } from '../../errors.js';
import { loadJournal } from './journal-file.js';
import type { PartPaths } from './part-paths.js';

/** What deciding on a journal needs to know. */
export interface TrustContext {
  /** The URL the user gave. */
  url: string;
  output: string;
  paths: PartPaths;
  force: boolean;
  /** This machine's boot id, if known. */
  boot: string | undefined;
  notice(message: string): void;
}

/**
 * Loads the journals beside the output and decides whether their bytes can be trusted; undefined
 * means start over. A journal written for another URL that may hold the same file (core
 * `trustJournal()` says 'moved') is returned with its own `url`: the probe must confirm it
 * (`confirmMove()`) before a byte is kept. A durable journal that is not ours (garbage, a newer format, another URL) is
 * a JournalError unless `force` is set. The journal returned has in `done` every byte held: the
 * durable journal's, and the live journal's when this boot wrote it for the same download.
 */
export async function loadTrustedJournal(t: TrustContext): Promise<Journal | undefined> {
  const { force, output } = t;
  const path = t.paths.journal;
  let journal: Journal | undefined;
  try {
    journal = await loadJournal(path, () =>
      t.notice(`Journal "${path}" is empty (left by a crash of the machine?): starting over`),
    );
  } catch (error) {
    if (!(error instanceof JournalError)) throw error;
    if (!force) {
      throw new JournalError(`${error.message} (delete it, or use --force to start over)`, {
        cause: error,
      });
    }
    t.notice(`${error.message}: starting over`);
    return undefined;
  }
  if (journal === undefined) return undefined;
  if (journal.boot !== undefined) {
    const message = `Cannot trust journal "${path}": it claims bytes that were never synced`;
    if (!force) throw new JournalError(`${message} (delete it, or use --force to start over)`);
    t.notice(`${message}: starting over`);
    return undefined;
  }
  journal = { ...journal, done: await liveSpans(t, journal) };
  let partSize: number | undefined;
  try {
    partSize = (await stat(t.paths.part)).size;
  } catch {
    partSize = undefined;
  }
  const trust = trustJournal(journal, { url: t.url, partSize });
  switch (trust.kind) {
    case 'resume':
    case 'moved':
      return journal;
    case 'foreign': {
      const message = `Cannot resume "${output}": journal "${path}" is for "${trust.url}"`;
      if (!force) throw new JournalError(`${message} (delete it, or use --force to start over)`);
      t.notice(`${message}: starting over`);
      return undefined;
    }
    case 'part-missing':
      if (trust.held) t.notice(`"${t.paths.part}" is missing: starting over`);
      return undefined;
    case 'part-size':
      t.notice(
        `"${t.paths.part}" has ${trust.size} bytes, the journal expects ${trust.expected}: starting over`,
      );
      return undefined;
    case 'unprovable':
      t.notice(`Cannot resume "${output}": ${trust.reason}; starting over`);
      return undefined;
  }
}

/** Every byte held: the durable journal's spans, and the live journal's when it can be trusted. */
async function liveSpans(t: TrustContext, journal: Journal): Promise<Journal['done']> {
  const path = t.paths.live;
  let live: Journal | undefined;
  try {
    live = await loadJournal(path);
  } catch (error) {
    if (!(error instanceof JournalError)) throw error;
    t.notice(`Ignoring "${path}": ${error.message}`);
    return journal.done;
  }
  if (live === undefined) return journal.done;
  const verdict = liveVerdict(journal, live, t.boot);
  switch (verdict.kind) {
    case 'trusted':
      return verdict.done;
    case 'other-boot': {
      const lost = spanBytes(live.done) - spanBytes(journal.done);
      if (lost > 0) {
        t.notice(
          `The machine restarted since the last save: ${lost} bytes that were not synced to disk are fetched again`,
        );
      }
      return journal.done;
    }
    case 'foreign':
      t.notice(`Ignoring "${path}": it belongs to another download`);
      return journal.done;
  }
}
