/**
 * One upload on the listing page, with its row: tus creation (POST), HEAD to resume, PATCH in
 * chunks, DELETE to cancel; retries, refusals in words, and the localStorage entry that lets a
 * reload continue it (see uploader.ts for the whole picture).
 */
import {
  button,
  type Context,
  filenameMetadata,
  formatRate,
  Refusal,
  type State,
  sleep,
} from './tus-wire.js';

const MIN_CHUNK = 256 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;
/** A chunk takes about this long to send, so pause and progress stay prompt on slow links. */
const CHUNK_SECONDS = 2;
/** Waits before the retries after a network failure or a 5xx; the last one repeats. */
const RETRY_DELAYS = [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
/** Failures in a row (without progress) before the row asks for a press of Resume. */
const MAX_FAILURES = 12;

/** One file going up, with its row on the page. */
export class Upload {
  readonly row = document.createElement('li');
  readonly #file: File;
  readonly #ctx: Context;
  readonly #key: string;
  readonly #progress = document.createElement('progress');
  readonly #status = document.createElement('span');
  readonly #pause: HTMLButtonElement;
  readonly #resume: HTMLButtonElement;
  readonly #cancel: HTMLButtonElement;
  #url: string | undefined;
  #offset = 0;
  #state: State = 'waiting';
  #controller: AbortController | undefined;
  #running: Promise<void> = Promise.resolve();
  #chunk = MIN_CHUNK * 4;
  #note = '';

  constructor(file: File, ctx: Context) {
    this.#file = file;
    this.#ctx = ctx;
    this.#key = [
      'ranged.upload',
      ctx.endpoint.pathname,
      `${ctx.folder}${file.name}`,
      file.size,
      file.lastModified,
    ].join('\n');
    this.#url = this.#stored();
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = file.name;
    this.#pause = button('Pause', file.name);
    this.#resume = button('Resume', file.name);
    this.#cancel = button('Cancel', file.name);
    this.#pause.addEventListener('click', () => this.pause());
    this.#resume.addEventListener('click', () => this.start());
    this.#cancel.addEventListener('click', () => void this.cancel());
    const buttons = document.createElement('span');
    buttons.className = 'buttons';
    buttons.append(this.#pause, this.#resume, this.#cancel);
    this.#progress.max = Math.max(file.size, 1);
    this.#progress.value = 0;
    this.#progress.setAttribute('aria-label', `Upload of ${file.name}`);
    this.#status.className = 'status';
    this.row.className = 'upload';
    this.row.append(name, buttons, this.#progress, this.#status);
    this.#show('waiting');
  }

  /** The file this row is for. */
  get file(): File {
    return this.#file;
  }

  get state(): State {
    return this.#state;
  }

  /** Starts, or continues from the server's offset. */
  start(): void {
    if (this.#state === 'running' || this.#state === 'done' || this.#state === 'cancelled') return;
    const token = this.#ctx.token();
    if (token === undefined) {
      this.#set('waiting', 'enter the upload token to start');
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    this.#set('running', this.#note);
    const previous = this.#running;
    this.#running = previous.then(() => this.#run(token, controller.signal));
  }

  /** Stops within the current chunk; the server keeps what it stored. */
  pause(): void {
    if (this.#state !== 'running' && this.#state !== 'waiting') return;
    this.#controller?.abort();
    this.#set('paused', `paused at ${Math.floor((100 * this.#offset) / this.#size())} %`);
  }

  /** Stops and terminates the upload on the server (tus DELETE). */
  async cancel(): Promise<void> {
    if (this.#state === 'done' || this.#state === 'cancelled') return;
    this.#controller?.abort();
    this.#set('cancelled', 'cancelling…');
    await this.#running;
    const url = this.#url;
    this.#forget();
    if (url === undefined) return this.#set('cancelled', 'cancelled');
    const token = this.#ctx.token();
    try {
      let response = await this.#terminate(url, token ?? '');
      // A PATCH that was still on its way (aborted here, its bytes still in flight) can take the
      // upload back from the DELETE (409: a newer request took over); the DELETE is asked again.
      for (let i = 0; i < 5 && response.status === 409; i++) {
        await sleep(200 * (i + 1), new AbortController().signal);
        response = await this.#terminate(url, token ?? '');
      }
      const ok = response.ok || response.status === 404 || response.status === 410;
      this.#set(
        'cancelled',
        ok ? 'cancelled' : `cancelled here; the server said ${response.status}`,
      );
    } catch {
      this.#set('cancelled', 'cancelled here; the server could not be reached to remove it');
    }
  }

  #terminate(url: string, token: string): Promise<Response> {
    return fetch(url, { method: 'DELETE', headers: this.#headers(token), cache: 'no-store' });
  }

  async #run(token: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    let ask = this.#url !== undefined;
    while (!signal.aborted) {
      try {
        if (this.#url === undefined) await this.#create(token);
        else if (ask) await this.#head(token, signal);
        ask = false;
        if (this.#offset >= this.#file.size) return this.#finish();
        if (signal.aborted) return;
        const before = this.#offset;
        await this.#patch(token, signal);
        if (this.#offset > before) failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof Refusal && !this.#retryable(error)) {
          if (!this.#recover(error)) return;
          ask = this.#url !== undefined;
          continue;
        }
        failures++;
        if (failures > MAX_FAILURES) {
          this.#set('failed', 'the connection keeps failing; press Resume to try again');
          return;
        }
        const delay = RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length) - 1] ?? 30_000;
        const why =
          error instanceof Refusal ? `the server said ${error.status}` : 'connection lost';
        this.#show(`${why}; retrying in ${Math.ceil(delay / 1000)} s`);
        await sleep(delay, signal);
        ask = this.#url !== undefined;
      }
    }
  }

  #retryable(error: Refusal): boolean {
    return (
      error.status === 408 || error.status === 429 || (error.status >= 500 && error.status !== 507)
    );
  }

  /** Handles a refusal in words; true to go on (after starting over or asking HEAD). */
  #recover(error: Refusal): boolean {
    const { status, during } = error;
    if (status === 401 || status === 403) {
      this.#ctx.forgetToken();
      this.#set('failed', 'wrong token: enter the upload token again');
      return false;
    }
    if ((status === 404 || status === 410) && during !== 'create') {
      this.#forget();
      this.#offset = 0;
      this.#note = 'the upload expired; starting over';
      this.#show(this.#note);
      return true;
    }
    if (status === 409 && during === 'patch') return true; // the offset moved: ask HEAD
    if (status === 409) this.#set('failed', 'a file with this name exists');
    else if (status === 413) this.#set('failed', 'too large for this server');
    else if (status === 507) this.#set('failed', 'the server has no room for it');
    else this.#set('failed', `the server refused the upload (${status})`);
    return false;
  }

  async #create(token: string): Promise<void> {
    // Not aborted by Pause: an upload created without our knowing its URL would hold the name.
    const response = await fetch(this.#ctx.endpoint, {
      method: 'POST',
      headers: {
        ...this.#headers(token),
        'Upload-Length': String(this.#file.size),
        'Upload-Metadata': filenameMetadata(`${this.#ctx.folder}${this.#file.name}`),
      },
      cache: 'no-store',
    });
    const location = response.headers.get('Location');
    if (response.status !== 201 || location === null) throw new Refusal(response.status, 'create');
    // The page speaks only to the server that served it, whose uploads are <endpoint><id>: the
    // id resolved against the page's own (relative) endpoint keeps working behind a proxy that
    // strips a path prefix, where the server's Location (a path from its root) would miss it.
    const id = new URL(location, this.#ctx.endpoint).pathname.split('/').pop() ?? '';
    this.#url = new URL(id, this.#ctx.endpoint).href;
    this.#offset = 0;
    localStorage.setItem(this.#key, this.#url);
  }

  async #head(token: string, signal: AbortSignal): Promise<void> {
    const response = await fetch(this.#url as string, {
      method: 'HEAD',
      headers: this.#headers(token),
      cache: 'no-store',
      signal,
    });
    const offset = Number(response.headers.get('Upload-Offset'));
    if (!response.ok || !Number.isSafeInteger(offset)) throw new Refusal(response.status, 'head');
    this.#offset = offset;
    this.#show();
  }

  async #patch(token: string, signal: AbortSignal): Promise<void> {
    const start = this.#offset;
    const end = Math.min(start + this.#chunk, this.#file.size);
    const began = performance.now();
    const response = await fetch(this.#url as string, {
      method: 'PATCH',
      headers: {
        ...this.#headers(token),
        'Upload-Offset': String(start),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: this.#file.slice(start, end),
      cache: 'no-store',
      signal,
    });
    const offset = Number(response.headers.get('Upload-Offset'));
    if (response.status !== 204 || !Number.isSafeInteger(offset) || offset < start) {
      throw new Refusal(response.status, 'patch');
    }
    const seconds = Math.max((performance.now() - began) / 1000, 0.001);
    const rate = (offset - start) / seconds;
    this.#offset = offset;
    // The next chunk: about CHUNK_SECONDS of sending at this rate.
    const next = Math.round((rate * CHUNK_SECONDS) / MIN_CHUNK) * MIN_CHUNK;
    this.#chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, next));
    this.#show(formatRate(rate));
  }

  #finish(): void {
    this.#forget();
    this.#offset = this.#file.size;
    this.#set('done', 'uploaded');
    this.#ctx.completed();
  }

  #headers(token: string): Record<string, string> {
    return { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}` };
  }

  #stored(): string | undefined {
    try {
      return localStorage.getItem(this.#key) ?? undefined;
    } catch {
      return undefined;
    }
  }

  #forget(): void {
    this.#url = undefined;
    localStorage.removeItem(this.#key);
  }

  #size(): number {
    return Math.max(this.#file.size, 1);
  }

  #set(state: State, text?: string): void {
    this.#state = state;
    this.row.dataset.state = state;
    this.#pause.hidden = state !== 'running' && state !== 'waiting';
    this.#resume.hidden = state !== 'paused' && state !== 'failed';
    this.#cancel.hidden = state === 'done' || state === 'cancelled';
    this.#status.classList.toggle('error', state === 'failed');
    this.#show(text);
  }

  /** Shows the progress, and a word on it (a speed, a notice). */
  #show(text?: string): void {
    this.#progress.value = this.#file.size === 0 && this.#state === 'done' ? 1 : this.#offset;
    const percent = `${Math.floor((100 * this.#offset) / this.#size())} %`;
    const parts = this.#state === 'running' ? [percent] : [];
    if (this.#note !== '' && text !== this.#note && this.#state === 'running')
      parts.push(this.#note);
    if (text !== undefined && text !== '') parts.push(text);
    this.#status.textContent = parts.join(' · ');
  }
}
