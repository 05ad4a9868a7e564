/**
 * The small pieces of the page's tus uploader that are not about one row: a refusal, the
 * metadata, a rate for people, and a sleep that a pause cuts short.
 */

export type State = 'waiting' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed';

/** A response the uploader does not retry blindly. */
export class Refusal extends Error {
  readonly status: number;
  readonly during: 'create' | 'head' | 'patch';
  constructor(status: number, during: 'create' | 'head' | 'patch') {
    super(`HTTP ${status}`);
    this.status = status;
    this.during = during;
  }
}

/** What one upload row needs from the uploader around it. */
export interface Context {
  endpoint: URL;
  folder: string;
  /** The stored token, or the one typed (then stored); undefined asks for it. */
  token(): string | undefined;
  /** Forgets the token and shows the token field. */
  forgetToken(): void;
  /** Runs when an upload completes (the listing is fetched again). */
  completed(): void;
}

/** A byte rate for people: `850 KiB/s`, `12.4 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** The tus `Upload-Metadata` value for a file name: `filename <base64 of its UTF-8>`. */
export function filenameMetadata(path: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(path)) binary += String.fromCharCode(byte);
  return `filename ${btoa(binary)}`;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function button(label: string, file: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'action';
  b.textContent = label;
  b.setAttribute('aria-label', `${label} ${file}`);
  return b;
}
