/**
 * `loadTrustedJournal()`: the journal of an earlier run, if its bytes can be trusted (core
 * `trustJournal()` decides). Untrusted journals are reported, or with `force` set aside.
 */
import { stat } from 'node:fs/promises';
import { heldSpans, type Journal } from '../core/journal.js';
import { trustJournal } from '../core/resume.js';
import { spanBytes } from '../core/segments.js';
import { JournalError } from '../errors.js';
import { loadJournal } from './journal-file.js';
import type { Transfer } from './transfer.js';

/**
 * Loads the journal beside the output and decides whether its bytes can be trusted; undefined
 * means start over. A journal that is not ours (garbage, a newer format, another URL) is a
 * JournalError unless `force` is set. The journal returned has in `done` every byte it vouches
 * for on this boot (its `live` spans when this boot wrote them), and no `live` spans.
 */
export async function loadTrustedJournal(t: Transfer): Promise<Journal | undefined> {
  const { force, output } = t.settings;
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
  const held = heldSpans(journal, t.boot);
  const live = journal.live;
  if (live !== undefined && live.boot !== t.boot) {
    const lost = spanBytes(live.done) - spanBytes(journal.done);
    if (lost > 0) {
      t.notice(
        `The machine restarted since "${path}" was saved: ${lost} bytes it had not synced to disk are fetched again`,
      );
    }
  }
  journal = { ...journal, done: held, live: undefined };
  let partSize: number | undefined;
  try {
    partSize = (await stat(t.paths.part)).size;
  } catch {
    partSize = undefined;
  }
  const trust = trustJournal(journal, { url: t.url, partSize });
  switch (trust.kind) {
    case 'resume':
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
