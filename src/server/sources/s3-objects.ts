/**
 * The S3 calls of the upload store, on one bucket: a command sent within its bounds and its failure
 * sorted (a missing object and a failed precondition for the caller; any other failure of the store
 * 502, 504 when it did not answer in time), objects read, written only over a version or only where
 * none is, listed, streamed and deleted, and the parts of multipart uploads; with the ETag helpers
 * (an S3 ETag is an MD5).
 *
 * Measured on Ceph RGW 16.2 (Pacific): PutObject honours `If-None-Match: *` and `If-Match`
 * (412), but `If-Match` must carry the ETag without its quotes (a quoted one never matches), and of
 * writers racing with the same `If-Match` one wins and the others get 412 or 500 (the object then
 * says who won).
 */

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { GetObjectCommandOutput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { partTimeoutMs, type S3Multipart } from '../../core/upload/s3-state.js';
import { StoreUnavailableError } from '../uploads/store-types.js';
import { type S3Connection, s3Failure, storeUnavailable } from './s3-client.js';
import { S3Reader, S3RequestError } from './s3-reader.js';

/** The largest small object (a state, a record) read as text: 10,000 parts fit 100 times. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * The whole body of `res`, at most `max` bytes; a store silent for `timeout` ms while it sends is
 * a TimeoutError.
 */
function readBody(res: IncomingMessage, max: number, timeout: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        res.destroy(new S3RequestError(`the store went silent for ${timeout} ms`, 'ETIMEDOUT'));
      }, timeout);
    };
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        res.destroy(new StoreUnavailableError(`an object of the store is above ${max} bytes`, 502));
        return;
      }
      chunks.push(chunk);
      arm();
    });
    res.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    res.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.complete)
        reject(new S3RequestError('the store closed the connection', 'ECONNRESET'));
    });
    arm();
  });
}

/** A part upload under way (S3Objects.streamPart()). */
export interface PartUpload {
  /** The part's next bytes, sent from `bytes` (not copied: they must stay until finish()). */
  write(bytes: Uint8Array): void;
  /** Ends the part (all its bytes written); its ETag, unquoted. */
  finish(): Promise<string>;
  /** Gives the part up before its bytes are all written: the store keeps nothing of it. */
  abort(): void;
}

/** A compare-and-swap failed: another request changed the state since it was read. */
export class Conflict extends Error {
  override name = 'Conflict';
}

/** The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, then `-COUNT`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(unquote(etag), 'hex'));
  return `${hash.digest('hex')}-${partEtags.length}`;
}

/** An ETag without W/ and quotes, lowercase (RGW 16.2 matches If-Match only so). */
export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export const EMPTY_ETAG = md5(new Uint8Array(0));

/** `CopySource` for an object of `bucket`: bucket and key, each path segment URL-encoded. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Whether `error` is the S3 client's (a service answer, a network or time failure). */
function isS3Error(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $metadata?: unknown; $fault?: unknown; name?: unknown; code?: unknown };
  if (e.$metadata !== undefined || e.$fault !== undefined) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code);
}

/** Whether `error` is the store's answer that the object (or multipart upload) is not there. */
export function isMissing(error: unknown): boolean {
  return isS3Error(error) && s3Failure(error).kind === 'missing';
}

/** Whether `error` is the store's answer that a precondition failed (412). */
export function isChanged(error: unknown): boolean {
  return isS3Error(error) && s3Failure(error).kind === 'changed';
}

/** The objects of one bucket, through the shared connection. */
export class S3Objects {
  readonly conn: S3Connection;
  readonly bucket: string;

  /**
   * The upload's hot requests without the SDK (s3-reader.ts): part uploads (no payload hash) and
   * the reads and writes of small objects (the state, on every PATCH), without its ~1 ms of CPU
   * and its garbage per request.
   */
  readonly #lean: S3Reader;

  constructor(conn: S3Connection, bucket: string) {
    this.conn = conn;
    this.bucket = bucket;
    this.#lean = new S3Reader({
      endpoint: conn.endpoint,
      region: conn.region,
      credentials: conn.credentials,
      agents: conn.agents,
      bucket,
      timeout: conn.timeout,
    });
  }

  /**
   * Sends a command (within `timeoutMs` if given). A missing object (404) and a failed
   * precondition (412) reject with the client's error, for the caller to sort; any other failure
   * of the store rejects with StoreUnavailableError (502, 504 when it did not answer in time).
   */
  async send<T>(command: unknown, timeoutMs?: number): Promise<T> {
    try {
      // The commands are the SDK's own (conn.sdk), built by the callers.
      const options =
        timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMs) };
      return (await this.conn.client.send(command as never, options)) as T;
    } catch (error) {
      if (!isS3Error(error)) throw error;
      const kind = s3Failure(error).kind;
      if (kind === 'missing' || kind === 'changed') throw error;
      throw storeUnavailable(error, 'the S3 store failed');
    }
  }

  /** The object's bytes as text, its ETag and time, or undefined when it is not there. */
  async getText(
    key: string,
  ): Promise<{ text: string; etag: string; modified: number } | undefined> {
    let text: string;
    let res: IncomingMessage;
    try {
      res = await this.#lean.send('GET', key, {});
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      if (res.statusCode !== 200) {
        res.resume();
        throw new StoreUnavailableError(`the S3 store answered ${res.statusCode} to a read`, 502);
      }
      text = (await readBody(res, MAX_TEXT_BYTES, this.conn.timeout)).toString('utf8');
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw storeUnavailable(error, 'the S3 store failed a read');
    }
    const modified = Date.parse(res.headers['last-modified'] ?? '');
    return {
      text,
      etag: unquote(res.headers.etag),
      modified: Number.isNaN(modified) ? 0 : modified,
    };
  }

  /**
   * Writes an object; with `ifMatch` (an ETag without quotes), only over that version; with
   * `ifNoneMatch`, only where none is. The new ETag, or undefined when the condition failed.
   */
  async put(
    key: string,
    body: Uint8Array | string,
    condition: { ifMatch?: string; ifNoneMatch?: boolean } = {},
    contentType = 'application/octet-stream',
  ): Promise<string | undefined> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (condition.ifMatch !== undefined) headers['If-Match'] = condition.ifMatch;
    if (condition.ifNoneMatch === true) headers['If-None-Match'] = '*';
    const conditional = condition.ifMatch !== undefined || condition.ifNoneMatch === true;
    let res: IncomingMessage;
    try {
      res = await this.#lean.send('PUT', key, headers, { body: bytes });
    } catch (error) {
      throw storeUnavailable(error, 'the S3 store failed a write');
    }
    res.resume();
    const status = res.statusCode ?? 0;
    if (status === 200) return unquote(res.headers.etag);
    if (conditional) {
      // 412: another version is there (or one is, for If-None-Match); 404: none is, for If-Match;
      // 409: S3's ConditionalRequestConflict, a conditional write racing with another.
      if (status === 412 || status === 404 || status === 409) return undefined;
      // RGW 16.2 answers some losers of a race of conditional writes with 500: the object says
      // whether this write is the one that won (every body written so is unique).
      if (status === 500) {
        const now = await this.exists(key);
        return now !== undefined && now.etag === md5(bytes) ? now.etag : undefined;
      }
    }
    throw new StoreUnavailableError(`the S3 store answered ${status} to a write`, 502);
  }

  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = this.conn.sdk;
    try {
      await this.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** The object at `key` (its ETag without quotes), or undefined. */
  async exists(key: string): Promise<{ etag: string } | undefined> {
    const { HeadObjectCommand } = this.conn.sdk;
    try {
      const out = await this.send<{ ETag?: string }>(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return { etag: unquote(out.ETag) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Whether any object's key starts with `prefix`. */
  async anyBelow(prefix: string): Promise<boolean> {
    const { ListObjectsV2Command } = this.conn.sdk;
    const below = await this.send<ListObjectsV2CommandOutput>(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 }),
    );
    return (below.Contents?.length ?? 0) > 0;
  }

  /** Every page of a listing under `prefix` (with `delimiter`: its common prefixes too). */
  async *list(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    const { ListObjectsV2Command } = this.conn.sdk;
    let token: string | undefined;
    do {
      const page = await this.send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Reads the `size` bytes of the object at `key` into `buffer` from 0; returns `size`. */
  async readInto(key: string, buffer: Buffer, size: number): Promise<number> {
    if (size === 0) return 0;
    let at = 0;
    for await (const chunk of await this.stream(key)) {
      const piece = chunk as Buffer;
      if (at + piece.length > size) throw new Error(`${key} holds more than ${size} bytes`);
      piece.copy(buffer, at);
      at += piece.length;
    }
    if (at !== size) throw new Error(`${key} holds ${at} bytes, not ${size}`);
    return size;
  }

  /** A readable stream of the object at `key`. */
  async stream(key: string): Promise<Readable> {
    const { GetObjectCommand } = this.conn.sdk;
    const out = await this.send<GetObjectCommandOutput>(
      new GetObjectCommand({ Bucket: this.bucket, Key: key }),
    );
    return out.Body as Readable;
  }

  /** Makes a multipart upload at `key`. */
  async createMultipart(key: string, contentType: string): Promise<S3Multipart> {
    const { CreateMultipartUploadCommand } = this.conn.sdk;
    const out = await this.send<{ UploadId?: string }>(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    if (out.UploadId === undefined) throw new Error('S3 gave no UploadId');
    return { uploadId: out.UploadId, key };
  }

  /** Aborts a multipart upload (S3 frees its parts); one already gone is fine. */
  async abort(multipart: S3Multipart): Promise<void> {
    const { AbortMultipartUploadCommand } = this.conn.sdk;
    try {
      await this.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: multipart.key,
          UploadId: multipart.uploadId,
        }),
      );
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /**
   * Starts the upload of part `n` (`size` bytes) of `multipart`; its bytes are written as they come
   * and finish() ends the request and waits for the part's ETag. An abort() before all `size`
   * bytes were written destroys the request: the store never gets that part.
   */
  streamPart(multipart: S3Multipart, n: number, size: number): PartUpload {
    // A signed PUT of the part, its payload UNSIGNED-PAYLOAD: the SDK hashed each 8 MiB part for
    // its signature before sending it, in series with the PATCH (s3 bench: ranged 7.7 s of CPU
    // per GB uploaded). The part's integrity is checked at completion: CompleteMultipartUpload
    // compares each part's ETag (its MD5) with the one recorded here.
    const query = { partNumber: String(n), uploadId: multipart.uploadId };
    const put = this.#lean.streamPut(multipart.key, query, size);
    return {
      write: (bytes) => put.write(bytes),
      abort: () => put.abort(),
      finish: async () => {
        let res: IncomingMessage;
        try {
          // The wait for the answer starts with the part's last bytes: before, the pace was the
          // request body's (watched by the upload's minimum speed).
          res = await put.end(undefined, partTimeoutMs(size));
        } catch (error) {
          throw storeUnavailable(error, 'the S3 store failed a part upload');
        }
        res.resume();
        const status = res.statusCode ?? 0;
        // The multipart upload is gone (a termination meanwhile): another request's doing.
        if (status === 404) throw new Conflict();
        if (status !== 200 || typeof res.headers.etag !== 'string') {
          throw new StoreUnavailableError(`the S3 store answered ${status} to a part upload`, 502);
        }
        return unquote(res.headers.etag);
      },
    };
  }

  /** Copies the object at `key` (`size` bytes) in the store as part `n`; its ETag. */
  async copyPart(multipart: S3Multipart, n: number, key: string, size: number): Promise<string> {
    const { UploadPartCopyCommand } = this.conn.sdk;
    const out = await this.#partSent<{ CopyPartResult?: { ETag?: string } }>(
      new UploadPartCopyCommand({
        Bucket: this.bucket,
        Key: multipart.key,
        UploadId: multipart.uploadId,
        PartNumber: n,
        CopySource: copySource(this.bucket, key),
      }),
      size,
    );
    return unquote(out.CopyPartResult?.ETag);
  }

  /**
   * Sends a part upload (or copy) of `size` bytes within its time limit; a multipart upload that
   * is gone (a termination meanwhile) is a conflict.
   */
  async #partSent<T>(command: unknown, size: number): Promise<T> {
    try {
      return await this.send<T>(command, partTimeoutMs(size));
    } catch (error) {
      if (isMissing(error)) throw new Conflict();
      throw error;
    }
  }
}
