/**
 * The upload side of the handler (issue 12): which requests are uploads, and the store, locks and
 * sweeper behind them. Uploads are off unless createHandler() gets `uploads`; then
 * - `/.uploads/` and `/.uploads/ID` speak tus 1.0.0 (tus.ts);
 * - PUT or POST to a file path with the draft's fields speak the IETF resumable-upload draft
 *   (ietf.ts), whose upload resources are `/.uploads/ID` too (HEAD, PATCH, DELETE with the draft's
 *   fields); a PUT without them stores the body all or nothing (put.ts); OPTIONS on a file path is
 *   the draft's (Upload-Limit);
 * - everything else (GET, HEAD, listings) is the file server's, as before.
 */
import { longSegment } from '../../core/upload/filename.js';
import { resolveUrlPath } from '../../core/url-path.js';
import type { Request, Response } from '../exchange.js';
import {
  answer,
  reservedTarget,
  TUS_ENDPOINT,
  UPLOAD_DEFAULTS,
  type UploadContext,
  type UploadOptions,
} from './context.js';
import { FileUploadStore } from './file-store.js';
import { handleIetfResource, handleIetfUpload } from './ietf.js';
import { LocalLocks } from './locks.js';
import { handlePut } from './put.js';
import { type FileStoreOptions, StoreUnavailableError, type UploadStore } from './store-types.js';
import { startSweeper } from './sweeper.js';
import { handleTus } from './tus.js';

export type { UploadOptions } from './context.js';

export interface Uploads {
  /** Handles `req` if it is an upload request (true), else leaves it to the file server (false). */
  handle(req: Request, res: Response): Promise<boolean>;
  close(): void;
}

/**
 * Makes the store the uploads are kept in, from the store options; the file source's is
 * FileUploadStore in `<root>/.ranged-uploads/`, the S3 source's keeps them in the bucket.
 */
export type StoreFactory = (options: FileStoreOptions) => UploadStore;

/**
 * The uploads of the served folder whose real path is `root` (kept in its `.ranged-uploads/`), or
 * of the store `makeStore` makes.
 */
export function createUploads(
  root: string | StoreFactory,
  options: UploadOptions,
  dotfiles: boolean,
): Uploads {
  if (typeof options.token !== 'string' || options.token === '') {
    throw new TypeError('Cannot take uploads: the uploads option needs a token');
  }
  const now = options.now ?? Date.now;
  const maxUploads = options.maxUploads ?? UPLOAD_DEFAULTS.maxUploads;
  const storeOptions: FileStoreOptions = {
    dotfiles,
    maxUploads,
    maxPendingBytes: options.maxPendingBytes,
    syncInterval: options.syncInterval ?? UPLOAD_DEFAULTS.syncInterval,
    now,
  };
  const store: UploadStore =
    typeof root === 'string' ? new FileUploadStore(root, storeOptions) : root(storeOptions);
  // A store that cannot open fails every upload request (500), not the process.
  const opened = Promise.resolve(store.open());
  opened.catch(() => {});
  const context: UploadContext = {
    store,
    locks: options.locks ?? new LocalLocks(),
    token: options.token,
    maxSize: options.maxSize,
    expires: options.expires ?? UPLOAD_DEFAULTS.expires,
    minSpeed: options.minSpeed ?? UPLOAD_DEFAULTS.minSpeed,
    speedWindow: options.speedWindow ?? UPLOAD_DEFAULTS.speedWindow,
    maxMetadataLength: options.maxMetadataLength ?? UPLOAD_DEFAULTS.maxMetadataLength,
    dotfiles,
    now,
  };
  const stopSweeper = startSweeper(context);

  const route = async (req: Request, res: Response): Promise<boolean> => {
    await opened;
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/.uploads' || path.startsWith(TUS_ENDPOINT)) {
      const rest = path.slice(TUS_ENDPOINT.length);
      if (path === '/.uploads' || rest.includes('/')) {
        answer(req, res, 404, { 'Tus-Resumable': '1.0.0' }, 'Not Found', { bodyUnread: true });
        return true;
      }
      if (rest !== '' && speaksDraft(req)) await handleIetfUpload(context, req, res, rest);
      else await handleTus(context, req, res, rest === '' ? undefined : rest);
      return true;
    }
    const draft = hasDraftFields(req);
    // Without the draft's fields, a POST to a file path is the file server's (405), as before.
    if (method !== 'PUT' && method !== 'OPTIONS' && !(method === 'POST' && draft)) return false;
    const resolved = resolveUrlPath(url, { dotfiles });
    if (method === 'OPTIONS') {
      const usable =
        resolved.kind === 'ok' &&
        resolved.bytes === undefined &&
        !resolved.trailingSlash &&
        reservedTarget(resolved.segments) === undefined;
      if (!usable || resolved.segments.length === 0) return false;
      await handleIetfResource(context, req, res, resolved.segments);
      return true;
    }
    if (resolved.kind === 'bad-request') {
      answer(req, res, 400, {}, 'Bad Request', { bodyUnread: true });
      return true;
    }
    if (resolved.kind === 'not-found' || reservedTarget(resolved.segments) !== undefined) {
      answer(req, res, 404, {}, 'Not Found', { bodyUnread: true });
      return true;
    }
    const tooLong = longSegment(resolved.segments);
    if (tooLong !== undefined) {
      answer(req, res, 400, {}, `Bad Request: ${tooLong}`, { bodyUnread: true });
      return true;
    }
    if (resolved.bytes !== undefined) {
      answer(req, res, 400, {}, 'Bad Request: a file name must be UTF-8', { bodyUnread: true });
      return true;
    }
    // A folder (the served folder itself too) is never an upload's target.
    if (resolved.trailingSlash || resolved.segments.length === 0) {
      answer(req, res, 405, { Allow: 'GET, HEAD' }, 'Method Not Allowed: a folder', {
        bodyUnread: true,
      });
      return true;
    }
    if (draft) await handleIetfResource(context, req, res, resolved.segments);
    else await handlePut(context, req, res, resolved.segments);
    return true;
  };
  const handle = async (req: Request, res: Response): Promise<boolean> => {
    try {
      return await route(req, res);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      // The store (an S3 bucket) failed or did not answer in time: 502 or 504, as a proxy answers
      // for its upstream, and the client tries again later; what was stored before stays.
      const tus = (req.url ?? '').startsWith(TUS_ENDPOINT) ? { 'Tus-Resumable': '1.0.0' } : {};
      const text =
        error.status === 504
          ? 'Gateway Timeout: the upload store did not answer in time'
          : 'Bad Gateway: the upload store failed';
      answer(req, res, error.status, { ...tus, 'Retry-After': '5' }, text, { bodyUnread: true });
      return true;
    }
  };
  return {
    handle,
    close: () => {
      stopSweeper();
      store.close?.();
    },
  };
}

/**
 * A creation of the draft: it carries `Upload-Complete` (draft-12 §Upload Creation: "A client can
 * start a resumable upload from any request that can carry content by including the
 * `Upload-Complete` header field") or names its interop version.
 */
function hasDraftFields(req: Request): boolean {
  const h = req.headers;
  return h['upload-complete'] !== undefined || h['upload-draft-interop-version'] !== undefined;
}

/**
 * A request to an upload resource that speaks the draft, not tus: it names its interop version
 * (draft-12 §Draft Version Identification: clients "MUST send a header field
 * `Upload-Draft-Interop-Version`"), or appends `application/partial-upload` with the draft's fields.
 */
function speaksDraft(req: Request): boolean {
  const h = req.headers;
  if (h['upload-draft-interop-version'] !== undefined) return true;
  const type = h['content-type']?.split(';')[0]?.trim().toLowerCase();
  return (
    type === 'application/partial-upload' &&
    (h['upload-complete'] !== undefined || h['upload-offset'] !== undefined)
  );
}
