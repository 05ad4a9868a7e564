/**
 * What the handler serves from: a folder on disk (file.ts) or an S3 bucket (s3.ts). The handler
 * resolves the URL, asks the source what the path names, and lets the source send a file, read a
 * folder for the listing, or make the upload store; the pure core decides every status and header
 * in both cases (core/respond.ts), so the answers are the same.
 */
import type { Request, Response } from '../exchange.js';
import type { FsPath } from '../inside-root.js';
import type { ListingEntry } from '../listing/entry.js';
import type { ServeFileOptions } from '../serve-file.js';
import type { StoreFactory } from '../uploads/uploads.js';

export { StoreUnavailableError } from '../uploads/store-types.js';

/** What a request's path names. `file` and `folder` carry what the source needs to go on. */
export type Found =
  | { kind: 'file'; file: unknown }
  | { kind: 'folder'; folder: unknown }
  /** Exists but is never served (FIFOs, sockets, devices, paths leading outside). */
  | { kind: 'refused' };

/** A folder opened for a listing; closed by the caller. */
export interface ListedFolder {
  /** Names the folder among the handler's listings (requests for one folder share a read). */
  key: string;
  /** Changes whenever the folder may have changed (a read is reused only while it stays). */
  identity(): string;
  /** Reads at most `max` entries, unsorted, with a yield to other requests now and then. */
  read(max: number): Promise<{ entries: ListingEntry[]; truncated: boolean }>;
  /** After the read: true if the folder is still the one opened (false: answer 404). */
  stillInside(): boolean;
  close(): void;
}

export interface Source {
  /** What `names` (decoded URL path segments, raw bytes for non-UTF-8 names) lead to. */
  find(names: readonly FsPath[]): Found | Promise<Found>;
  /** Sends a found file for the request (conditionals, ranges, HEAD): the core's plan. */
  send(
    req: Request,
    res: Response,
    found: Extract<Found, { kind: 'file' }>,
    type: string,
    options: ServeFileOptions,
  ): Promise<void>;
  /** Opens a found folder for a listing; undefined when it is no longer servable. */
  openFolder(found: Extract<Found, { kind: 'folder' }>): ListedFolder | undefined;
  /** Makes the upload store of this source (with `uploads`). */
  uploadStore(): string | StoreFactory;
  close(): void;
}

/** A not-found error the handler answers 404 (as a missing file's ENOENT). */
export function missing(what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${what} not found`), { code: 'ENOENT' });
}
