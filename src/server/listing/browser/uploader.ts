/**
 * The listing page's uploader, run in the browser: tus 1.0.0 over fetch() to the server's
 * `/.uploads/` (found relative to the page, so it works under a mount prefix), with the same
 * rules as `ranged put`: never send a byte twice that the server confirmed.
 *
 * - Creation: POST with `Upload-Length` and the `filename` metadata (the folder shown + the
 *   file's name); the upload's URL is kept in localStorage under the folder, name, size and
 *   lastModified, so choosing the same file after a reload or a closed tab continues it.
 * - Resuming: HEAD for the server's `Upload-Offset`, then PATCH from there, in chunks sized to
 *   about two seconds of sending (256 KiB to 8 MiB). Pause aborts the PATCH in flight (the server
 *   keeps what it stored); a dropped connection or a 5xx is retried with backoff.
 * - Cancel is a DELETE (tus termination); completion or cancel removes the localStorage entry.
 * - The token is asked once and kept in sessionStorage (per tab, gone with it): never in a URL,
 *   never in localStorage. A 401 forgets it and asks again.
 */
import type { Context } from './tus-wire.js';
import { Upload } from './upload-row.js';

const TOKEN_KEY = 'ranged.uploadToken';

/** Elements of the upload control (html.ts uploadControl()). */
interface Control {
  section: HTMLElement;
  files: HTMLInputElement;
  drop: HTMLElement;
  form: HTMLFormElement;
  tokenInput: HTMLInputElement;
  rows: HTMLElement;
}

function controlIn(section: HTMLElement): Control | undefined {
  const files = section.querySelector<HTMLInputElement>('input[data-files]');
  const drop = section.querySelector<HTMLElement>('[data-drop]');
  const form = section.querySelector<HTMLFormElement>('form[data-token-form]');
  const tokenInput = section.querySelector<HTMLInputElement>('input[data-token]');
  const rows = section.querySelector<HTMLElement>('[data-rows]');
  if (!files || !drop || !form || !tokenInput || !rows) return undefined;
  return { section, files, drop, form, tokenInput, rows };
}

/** Shows the upload control in `section` and runs it; `completed` runs after each upload. */
export function startUploader(section: HTMLElement, completed: () => void): void {
  const control = controlIn(section);
  if (control === undefined) return;
  const { files, drop, form, tokenInput, rows } = control;
  const uploads: Upload[] = [];
  const stored = (): string | undefined => sessionStorage.getItem(TOKEN_KEY) || undefined;
  const ctx: Context = {
    endpoint: new URL(section.dataset.endpoint ?? './.uploads/', location.href),
    folder: section.dataset.folder ?? '',
    token: () => {
      const known = stored();
      if (known !== undefined) return known;
      const typed = tokenInput.value.trim();
      if (typed === '') {
        form.hidden = false;
        return undefined;
      }
      sessionStorage.setItem(TOKEN_KEY, typed);
      tokenInput.value = '';
      form.hidden = true;
      return typed;
    },
    forgetToken: () => {
      sessionStorage.removeItem(TOKEN_KEY);
      form.hidden = false;
      tokenInput.focus();
    },
    completed,
  };
  form.hidden = stored() !== undefined;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (ctx.token() === undefined) return tokenInput.focus();
    for (const upload of uploads) {
      if (upload.state === 'waiting' || upload.state === 'failed') upload.start();
    }
  });

  const add = (chosen: readonly File[]) => {
    for (const file of chosen) {
      // The same file chosen again continues its row (and its upload) rather than adding one.
      const same = uploads.find(
        (u) =>
          u.file.name === file.name &&
          u.file.size === file.size &&
          u.file.lastModified === file.lastModified &&
          u.state !== 'done' &&
          u.state !== 'cancelled',
      );
      if (same !== undefined) {
        same.start();
        continue;
      }
      const upload = new Upload(file, ctx);
      uploads.push(upload);
      rows.append(upload.row);
      upload.start();
    }
  };
  files.addEventListener('change', () => {
    add(Array.from(files.files ?? []));
    files.value = ''; // so that choosing the same file again is a change too
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    add(Array.from(event.dataTransfer?.files ?? []));
  });
  section.hidden = false;
}
