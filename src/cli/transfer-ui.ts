/**
 * What `ranged get` and `ranged put` share on a terminal: the progress display (a live bar on a
 * TTY, a line every 5 s otherwise for get, nothing when quiet) and the controls (p pauses, r or Enter
 * resumes, Ctrl-C and SIGTERM stop with the progress saved).
 */
import { type ProgressView, renderBar, renderLine } from './render.js';

/** Columns of the terminal on stderr; 80 when it does not say (a pty without a size reports 0). */
function terminalWidth(): number {
  const columns = process.stderr.columns;
  return typeof columns === 'number' && columns > 0 ? columns : 80;
}

/**
 * Progress on stderr: a live bar on a terminal, a line every 5 s otherwise (`get`; `put` is quiet
 * off a terminal, `offTtyLines: false`, issue 13), nothing when quiet. Notices are said either way.
 */
export class ProgressUi {
  readonly quiet: boolean;
  readonly tty = process.stderr.isTTY === true;
  readonly #offTtyLines: boolean;
  drawn = false;
  lastLine = 0;
  last: ProgressView | undefined;
  #pauseShown = false;

  constructor(quiet: boolean, options: { offTtyLines?: boolean } = {}) {
    this.quiet = quiet;
    this.#offTtyLines = options.offTtyLines ?? true;
  }

  /** A progress report: says once when a pause has taken effect, then draws. */
  update(p: ProgressView): void {
    // Said when the pause has taken effect (connections closed, progress saved), not on the key.
    if (p.state === 'paused' && !this.#pauseShown) {
      this.#pauseShown = true;
      this.notice('Paused: connections closed, progress saved; press r or Enter to resume');
    }
    this.progress(p);
  }

  /** The transfer was resumed with a key. */
  resumed(): void {
    this.notice('Resuming');
    this.#pauseShown = false;
  }

  progress(p: ProgressView): void {
    this.last = p;
    if (this.quiet) return;
    if (this.tty) {
      const width = terminalWidth();
      process.stderr.write(`\r${renderBar(p, { width })}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (!this.#offTtyLines) return;
    const now = Date.now();
    // No `0% 0 B` line before a byte arrived.
    const moving = p.state === 'downloading' || p.state === 'uploading';
    if (moving && p.bytes > 0 && now - this.lastLine >= 5_000) {
      this.lastLine = now;
      process.stderr.write(`${renderLine(p)}\n`);
    }
  }

  notice(message: string): void {
    if (this.quiet) return;
    this.clear();
    process.stderr.write(`${message}\n`);
    if (this.tty && this.last !== undefined) this.progress(this.last);
  }

  clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  finish(): void {
    if (this.quiet) return;
    if (this.tty && this.last !== undefined) {
      this.clear();
      process.stderr.write(`${renderBar(this.last, { width: terminalWidth() })}\n`);
    }
    this.drawn = false;
  }
}

/** What the controls drive: a DownloadHandle or an UploadHandle. */
export interface PausableTransfer {
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/**
 * Maps SIGINT and SIGTERM onto `controller.abort()`, and, when stdin is a terminal, the keys p
 * (pause), r or Enter (resume) and Ctrl-C (a byte in raw mode). Returns the function that undoes
 * it all.
 */
export function attachControls(
  handle: PausableTransfer,
  controller: AbortController,
  ui: ProgressUi,
): () => void {
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stdin = process.stdin;
  const keys = stdin.isTTY === true;
  const onKey = (data: Buffer): void => {
    const key = data.toString('utf8');
    if (key === '\x03')
      controller.abort(); // Ctrl-C arrives as a byte in raw mode
    else if (key === 'p' || key === 'P') {
      if (!handle.paused) handle.pause();
    } else if (key === 'r' || key === 'R' || key === '\r' || key === '\n') {
      if (handle.paused) {
        ui.resumed();
        handle.resume();
      }
    }
  };
  if (keys) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (keys) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
  };
}
