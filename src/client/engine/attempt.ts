/**
 * `attempt()`: one pass of the resume path. Load the journal (if it can be trusted), probe the
 * server (core `probeRange()`/`probeOutcome()` decide what to ask and what the answer means),
 * fetch what is missing, then settle and finish. Pause, abort and a crash all end a pass with
 * the journal saved; going on means running `attempt()` again.
 */

import type { Journal } from '../../core/journal.js';
import { probeOutcome, probeRange } from '../../core/probe.js';
import { type Asked, confirmMove } from '../../core/resume.js';
import { connectionsFor, spanBytes } from '../../core/segments.js';
import { FileSystemError, JournalError, ProtocolError } from '../../errors.js';
import { discardPart, fileExists } from '../store/part-paths.js';
import { PartStore } from '../store/part-store.js';
import { loadTrustedJournal } from '../store/trusted-journal.js';
import { requestChecked } from './checked-request.js';
import { fetchPlain } from './fetch-plain.js';
import { fetchSegmented } from './fetch-segmented.js';
import { Run } from './run.js';
import { Scheduler } from './scheduler.js';
import { finishRun, settleRun } from './settle.js';
import { RestartNeeded } from './stops.js';
import type { Transfer } from './transfer.js';

export interface Pass {
  /** Stops this pass (pause, abort, a fatal error). */
  controller: AbortController;
  /** Told how many bytes the trusted journal holds, before anything is fetched. */
  onResumable(bytes: number): void;
}

/** Runs one pass; resolves when `OUT` exists, rejects with why the pass stopped. */
export async function attempt(t: Transfer, pass: Pass): Promise<{ size: number; url: string }> {
  const { output, force } = t.settings;
  if (!force && (await fileExists(output))) {
    throw new FileSystemError(
      `Cannot save "${output}": the file exists (use --force to replace it)`,
    );
  }
  t.emit('connecting');
  const loaded = await loadTrustedJournal({
    url: t.url,
    output,
    paths: t.paths,
    force,
    boot: t.boot,
    notice: (message) => t.notice(message),
  });
  if (loaded === undefined) await discardPart(t.paths);
  const { controller } = pass;
  // A journal from another URL is kept only when the new URL serves the same file.
  const journal =
    loaded !== undefined && loaded.url !== t.url
      ? await confirmMoved(t, loaded, controller.signal)
      : loaded;
  pass.onResumable(journal === undefined ? 0 : spanBytes(journal.done));
  if (journal?.size !== undefined && spanBytes(journal.done) === journal.size) {
    const run = await openRun(t, journal, {
      controller,
      ranged: false,
      resuming: true,
      url: t.url,
    });
    return finishRun(t, run);
  }
  // Every pass resolves the URL the user gave again: a redirect target from an earlier pass may
  // have expired.
  const asked = probeRange(journal, {
    connections:
      journal?.size === undefined ? 1 : connectionsFor(journal.size, t.settings.connections),
    minBytes: t.settings.minSegment,
  });
  const { res, verdict } = await requestChecked(t, t.url, asked, journal, {
    signal: controller.signal,
    retry: true,
  });
  const outcome = probeOutcome(t.url, journal, verdict);
  switch (outcome.kind) {
    case 'restart':
      res.body.destroy();
      throw new RestartNeeded(outcome.reason);
    case 'unexpected':
      res.body.destroy();
      throw new ProtocolError(`Cannot download "${t.url}": unexpected response`);
    case 'empty': {
      res.body.destroy();
      const run = await openRun(t, outcome.journal, {
        controller,
        ranged: true,
        resuming: false,
        url: res.url,
      });
      return finishRun(t, run);
    }
    case 'ranged': {
      const run = await openRun(t, outcome.journal, {
        controller,
        ranged: true,
        resuming: spanBytes(outcome.journal.done) > 0,
        url: res.url,
      });
      await fetchSegmented(t, run, {
        claimStart: outcome.claimStart,
        bodyStart: outcome.bodyStart,
        res,
      });
      await settleRun(t, run);
      return finishRun(t, run);
    }
    case 'plain': {
      if (outcome.notice !== undefined) t.notice(outcome.notice);
      const run = await openRun(t, outcome.journal, {
        controller,
        ranged: false,
        resuming: spanBytes(outcome.journal.done) > 0,
        url: res.url,
      });
      await fetchPlain(t, run, res);
      await settleRun(t, run);
      return finishRun(t, run);
    }
  }
}

/**
 * A journal written for another URL (a re-signed link, a moved file): asks the user's URL for one
 * byte the journal does not need and keeps the journal, now for this URL, when the answer shows
 * the same size and validator (core `confirmMove()`). Otherwise a JournalError, or with `force`
 * the part is discarded and the pass starts over.
 */
async function confirmMoved(
  t: Transfer,
  journal: Journal,
  signal: AbortSignal,
): Promise<Journal | undefined> {
  const size = journal.size ?? 1;
  const asked: Asked =
    journal.acceptRanges && size > 0
      ? { start: size - 1, end: size, ranged: true }
      : { start: 0, end: undefined, ranged: false };
  const { res, verdict } = await requestChecked(t, t.url, asked, journal, { signal, retry: true });
  res.body.destroy();
  const check = confirmMove(journal, verdict);
  if (check.kind === 'same') {
    t.notice(check.notice);
    return { ...journal, url: t.url };
  }
  const message = `Cannot resume "${t.settings.output}": journal "${t.paths.journal}" is for "${journal.url}", and "${t.url}" is not the same file (${check.reason})`;
  if (!t.settings.force) {
    throw new JournalError(`${message} (delete it, or use --force to start over)`);
  }
  t.notice(`${message}: starting over`);
  await discardPart(t.paths);
  return undefined;
}

/**
 * Opens the part store for a pass and makes the run that owns it; progress is reported from it
 * from now on.
 */
async function openRun(
  t: Transfer,
  journal: Journal,
  options: { controller: AbortController; ranged: boolean; resuming: boolean; url: string },
): Promise<Run> {
  const { settings } = t;
  // A failed background save stops the run, which is made once the store it owns is open.
  let run: Run | undefined;
  const scheduler = new Scheduler({
    limit:
      options.ranged && journal.size !== undefined
        ? connectionsFor(journal.size, settings.connections)
        : 1,
    minBytes: settings.minSegment,
    graceMs: settings.slowGrace,
  });
  const store = await PartStore.open(journal, {
    paths: t.paths,
    resuming: options.resuming,
    boot: t.boot,
    sync: settings.sync,
    syncInterval: settings.syncInterval,
    saveBytes: settings.saveBytes,
    saveInterval: settings.saveInterval,
    now: t.now,
    digest: t.digest,
    writers: () => scheduler.activeCount,
    onSaveError: (error) => run?.fail(error),
  });
  run = new Run({
    controller: options.controller,
    store,
    scheduler,
    version: { size: journal.size, etag: journal.etag, lastModified: journal.lastModified },
    ranged: options.ranged,
    target: options.url,
  });
  t.show(run);
  return run;
}
