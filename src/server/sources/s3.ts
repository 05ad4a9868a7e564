/**
 * The S3 source: `ranged serve s3://BUCKET[/PREFIX]` serves the objects of a bucket (Ceph RGW or
 * any S3-compatible store) with the same answers as files: the pure core plans every status and
 * header from the object's size, time and ETag, and the store is asked only for single byte ranges,
 * each with `If-Match: <etag>` (Ceph RGW ignores If-Range and answers only the first of several
 * ranges, FIELD.md; our core decides those).
 *
 * - An object replaced while it is served is never spliced: every body read carries If-Match, so a
 *   replaced object answers 412. If nothing was sent yet, the object is looked at again and the
 *   request answered for the new one; if bytes were sent, the connection is cut (the client sees a
 *   short body and resumes with If-Range). Object metadata is cached for a moment (`metadataTtl`),
 *   which is safe only because of that If-Match.
 * - A folder is a key prefix ending in `/`, listed with a delimiter, page by page.
 * - The store failing is 502 (it refused, or answered an error) or 504 (no answer within the
 *   timeout, 10 s), with Retry-After; the next request tries again, so the server recovers by itself.
 * - Keys under the upload store's prefix (`.ranged-uploads/`) are never served or listed.
 */
import type { IncomingMessage } from 'node:http';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { type BodyPart, planResponse } from '../../core/respond.js';
import { keyFor, parseS3Location, type S3Location } from '../../core/s3-location.js';
import { cut, isClosed, type Request, type Response, writeChunk } from '../exchange.js';
import { type FsPath, UPLOAD_STORE_NAME } from '../inside-root.js';
import type { ListingEntry } from '../listing/entry.js';
import {
  planOptionsFor,
  requestFacts,
  type ServeFileOptions,
  typeForPath,
  writable,
} from '../serve-file.js';
import type { StoreFactory } from '../uploads/uploads.js';
import { setNewest } from './newest-map.js';
import {
  connectS3,
  S3ConfigError,
  type S3Connection,
  type S3ConnectOptions,
  s3Failure,
  storeUnavailable,
} from './s3-client.js';
import { relayBody, S3Reader } from './s3-reader.js';
import { s3UploadStore } from './s3-upload-store.js';
import {
  type Found,
  type ListedFolder,
  missing,
  type Source,
  StoreUnavailableError,
} from './source.js';

export interface S3SourceOptions extends S3ConnectOptions {
  /** Serve and list names that start with a dot. @default false */
  dotfiles?: boolean;
  /** How long an object's size, time and ETag are reused, in ms; 0: ask every time. @default 1000 */
  metadataTtl?: number;
}

/** An object as the store described it. */
interface ObjectInfo {
  key: string;
  size: number;
  mtimeMs: number;
  etag: string;
}

/** Objects (and folder checks) remembered at once: a bound on the metadata cache. */
const CACHE_MAX = 10_000;
/** The longest key S3 stores, in bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;
/** Keys asked for in one list request (S3's maximum). */
const LIST_PAGE = 1000;

/** The S3 source of `url` (`s3://BUCKET[/PREFIX]`); checks the bucket can be reached first. */
export async function openS3Source(url: string, options: S3SourceOptions = {}): Promise<S3Source> {
  const parsed = parseS3Location(url);
  if (parsed.kind === 'bad') throw new S3ConfigError(`Cannot serve ${url}: ${parsed.reason}`);
  const conn = await connectS3(options);
  const source = new S3Source(conn, parsed.location, options);
  await source.check();
  return source;
}

export class S3Source implements Source {
  readonly conn: S3Connection;
  readonly location: S3Location;
  readonly #client: S3Client;
  /** HEAD and GET of objects, the hot path, without the SDK (s3-reader.ts). */
  readonly #reader: S3Reader;
  readonly #dotfiles: boolean;
  readonly #ttl: number;
  readonly #cache = new Map<string, { at: number; info: ObjectInfo | 'folder' | undefined }>();

  constructor(conn: S3Connection, location: S3Location, options: S3SourceOptions = {}) {
    this.conn = conn;
    this.location = location;
    this.#client = conn.client;
    this.#reader = new S3Reader({
      endpoint: conn.endpoint,
      region: conn.region,
      credentials: conn.credentials,
      agents: conn.agents,
      bucket: location.bucket,
      timeout: conn.timeout,
    });
    this.#dotfiles = options.dotfiles ?? false;
    this.#ttl = options.metadataTtl ?? 1000;
  }

  /** Where this source reads, for messages: `s3://bucket/prefix/ at http://endpoint`. */
  get description(): string {
    const at = this.conn.endpoint === undefined ? '' : ` at ${this.conn.endpoint}`;
    return `s3://${this.location.bucket}/${this.location.prefix}${at}`;
  }

  /** Rejects with an S3ConfigError (one clear line) when the bucket cannot be used. */
  async check(): Promise<void> {
    const { sdk } = this.conn;
    try {
      await this.#client.send(new sdk.HeadBucketCommand({ Bucket: this.location.bucket }), {
        abortSignal: AbortSignal.timeout(this.conn.timeout),
      });
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      const where = this.conn.endpoint ?? `the AWS endpoint of ${this.conn.region}`;
      if (status === 404) {
        throw new S3ConfigError(
          `Cannot serve ${this.description}: no bucket "${this.location.bucket}"`,
        );
      }
      if (status === 403 || status === 401) {
        throw new S3ConfigError(
          `Cannot serve ${this.description}: the store refused these credentials (${status})`,
        );
      }
      const detail = (error as Error).message || (error as Error).name;
      throw new S3ConfigError(`Cannot reach the S3 store at ${where}: ${detail}`);
    }
  }

  /** Uploads go into the bucket, under `PREFIX/.ranged-uploads/` (sources/s3-upload-store.ts). */
  uploadStore(): StoreFactory {
    return s3UploadStore(this.conn, this.location);
  }

  async find(names: readonly FsPath[]): Promise<Found> {
    // S3 keys are UTF-8: a name that is not has no object.
    if (names.some((n) => typeof n !== 'string')) throw missing('a name that is not UTF-8');
    const segments = names as readonly string[];
    // The upload store's state is never served, with or without dotfiles.
    if (segments[0] === UPLOAD_STORE_NAME) return { kind: 'refused' };
    if (segments.length === 0) return { kind: 'folder', folder: [] };
    const key = keyFor(this.location, segments);
    // S3 keys are at most 1,024 bytes: a longer path names nothing (not a store error).
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw missing('a key longer than 1,024 bytes');
    const info = await this.#stat(key);
    if (info === 'folder') return { kind: 'folder', folder: [...segments] };
    if (info === undefined) throw missing(key);
    return { kind: 'file', file: info };
  }

  /** What `key` is: an object, a folder (keys below `key/`), or nothing; cached for a moment. */
  async #stat(key: string, fresh = false): Promise<ObjectInfo | 'folder' | undefined> {
    const now = performance.now();
    const known = this.#cache.get(key);
    if (!fresh && known !== undefined && now - known.at < this.#ttl) return known.info;
    let info: ObjectInfo | 'folder' | undefined;
    const head = await this.#reader.send('HEAD', key, {}).catch((error: unknown) => {
      throw unavailable(error);
    });
    head.resume();
    if (head.statusCode === 200) {
      info = {
        key,
        size: Number(head.headers['content-length'] ?? 0),
        mtimeMs: Date.parse(head.headers['last-modified'] ?? '') || 0,
        etag: strongTag(head.headers.etag ?? ''),
      };
    } else if (head.statusCode === 404) {
      const listed = await this.#list(`${key}/`, undefined, 1);
      info = (listed.KeyCount ?? 0) > 0 ? 'folder' : undefined;
    } else {
      throw storeRefused(head.statusCode);
    }
    if (this.#ttl > 0) setNewest(this.#cache, key, { at: now, info }, CACHE_MAX);
    return info;
  }

  async #list(prefix: string, token: string | undefined, max = LIST_PAGE) {
    const { sdk } = this.conn;
    try {
      return await this.#client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: prefix,
          Delimiter: '/',
          MaxKeys: max,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
    } catch (error) {
      throw unavailable(error);
    }
  }

  async send(
    req: Request,
    res: Response,
    found: Extract<Found, { kind: 'file' }>,
    type: string,
    options: ServeFileOptions,
  ): Promise<void> {
    let info = found.file as ObjectInfo;
    const planOptions = planOptionsFor(options);
    const facts = requestFacts(req);
    // A replaced object is met by If-Match before a byte is sent: look again, answer for it.
    for (let attempt = 0; ; attempt++) {
      const plan = planResponse(
        facts,
        { size: info.size, mtimeMs: info.mtimeMs, type, etag: info.etag },
        planOptions,
      );
      if (req.method === 'HEAD' || plan.body.length === 0) {
        res.writeHead(plan.status, plan.headers);
        res.end();
        return;
      }
      const slice = plan.body.find((p): p is Extract<BodyPart, { start: number }> => 'start' in p);
      if (slice === undefined) {
        // Only literal bytes (a 405, 412 or 416 text): nothing to read from the store.
        res.writeHead(plan.status, plan.headers);
        await this.#writeBody(res, info, plan.body, undefined);
        return;
      }
      let first: IncomingMessage;
      try {
        first = await this.#read(info, slice);
      } catch (error) {
        if (!(error instanceof ObjectChanged) || attempt >= 2) throw error;
        const again = await this.#stat(info.key, true);
        if (again === undefined || again === 'folder') throw missing(info.key);
        info = again;
        continue;
      }
      res.writeHead(plan.status, plan.headers);
      await this.#writeBody(res, info, plan.body, first);
      return;
    }
  }

  /** A byte range of the object, only if it still has the ETag the plan was made for. */
  async #read(info: ObjectInfo, range: { start: number; end: number }): Promise<IncomingMessage> {
    const whole = range.start === 0 && range.end === info.size - 1;
    const headers: Record<string, string> = { 'If-Match': info.etag };
    if (!whole) headers.Range = `bytes=${range.start}-${range.end}`;
    const res = await this.#reader.send('GET', info.key, headers).catch((error: unknown) => {
      throw unavailable(error);
    });
    const status = res.statusCode ?? 0;
    if (status === 200 || status === 206) return res;
    res.resume();
    if (status === 412 || status === 404) {
      this.#cache.delete(info.key);
      throw new ObjectChanged(info.key);
    }
    throw storeRefused(status);
  }

  /**
   * Writes the planned body: literal bytes as they are, each slice from the store, with
   * backpressure. The head is sent: any failure now cuts the connection (a short body).
   */
  async #writeBody(
    res: Response,
    info: ObjectInfo,
    parts: BodyPart[],
    first: IncomingMessage | undefined,
  ) {
    let pending = first;
    try {
      for (const part of parts) {
        if (isClosed(res)) return;
        if ('bytes' in part) {
          if (!writeChunk(res, part.bytes) && !(await writable(res))) return;
          continue;
        }
        const body = pending ?? (await this.#read(info, part));
        pending = undefined;
        const want = part.end - part.start + 1;
        if ((await relayBody(body, res, this.conn.timeout)) !== want) return cut(res);
      }
      res.end();
    } catch {
      cut(res);
    } finally {
      pending?.destroy();
    }
  }

  openFolder(found: Extract<Found, { kind: 'folder' }>): ListedFolder {
    const segments = found.folder as string[];
    const prefix = keyFor(this.location, segments, true);
    const atRoot = segments.length === 0;
    return {
      key: `${this.#dotfiles ? '.' : ''}s3:${prefix}`,
      // No cheap identity: a big listing is shared for the reuse window (2 s) whatever happens.
      identity: () => 's3',
      read: (max) => this.#readFolder(prefix, atRoot, max),
      stillInside: () => true,
      close: () => {},
    };
  }

  async #readFolder(
    prefix: string,
    atRoot: boolean,
    max: number,
  ): Promise<{ entries: ListingEntry[]; truncated: boolean }> {
    const entries: ListingEntry[] = [];
    const usable = (name: string) =>
      name !== '' &&
      !name.includes('\\') &&
      (this.#dotfiles || !name.startsWith('.')) &&
      !(atRoot && name === UPLOAD_STORE_NAME);
    let token: string | undefined;
    for (;;) {
      const page = await this.#list(prefix, token);
      for (const common of page.CommonPrefixes ?? []) {
        const name = (common.Prefix ?? '').slice(prefix.length, -1);
        if (!usable(name)) continue;
        if (entries.length >= max) return { entries, truncated: true };
        entries.push({
          name,
          kind: 'directory',
          size: null,
          mtime: null, // a key prefix has no time of its own
          type: 'inode/directory',
          etag: null,
        });
      }
      for (const object of page.Contents ?? []) {
        const name = (object.Key ?? '').slice(prefix.length);
        if (!usable(name)) continue; // '' is the folder's own marker object
        if (entries.length >= max) return { entries, truncated: true };
        entries.push({
          name,
          kind: 'file',
          size: object.Size ?? 0,
          mtime: (object.LastModified ?? new Date(0)).toISOString(),
          type: typeForPath(name),
          etag: strongTag(object.ETag ?? ''),
        });
      }
      token = page.NextContinuationToken;
      if (!page.IsTruncated || token === undefined) return { entries, truncated: false };
      await yieldToOthers();
    }
  }

  close(): void {
    this.#client.destroy();
    // The keep-alive connections the SDK and the lean requests share.
    this.conn.agents.http.destroy();
    this.conn.agents.https.destroy();
  }
}

class ObjectChanged extends Error {}

/** The error to answer for a failed store request: 404 for a missing object, else 502/504. */
/** A store answer that is neither the object nor its absence: 502. */
function storeRefused(status: number | undefined): Error {
  return new StoreUnavailableError(`the store answered ${status ?? 'nothing'}`, 502);
}

function unavailable(error: unknown): Error {
  if (s3Failure(error).kind === 'missing') return missing('the object');
  return storeUnavailable(error, 'the S3 store failed');
}

/** S3 ETags are quoted; a store that left the quotes off still gets a valid entity-tag. */
function strongTag(etag: string): string {
  const tag = etag.startsWith('W/') ? etag.slice(2) : etag;
  return tag.startsWith('"') ? tag : `"${tag}"`;
}
