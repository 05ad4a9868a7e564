/**
 * The S3 source's hot paths, HEAD and ranged GET of one object and the upload store's part PUTs
 * (s3-objects.ts), as plain SigV4-signed requests (`aws4`, s3-signer.ts) over keep-alive
 * `node:http`/`node:https`. Measured in the s3 bench (bench/RESULTS.md, 2026-12-07): the AWS SDK
 * spends about 1.2 ms of CPU per request on these against 0.23-0.45 ms for signing plus a plain
 * request, and its response handling cost about 1 s per GB of GET on two cores; its per-request
 * garbage also pushed the server past 128 MiB under 32 connections. The SDK stays for everything
 * else (listing, the bucket check, the upload state objects).
 *
 * Bounded waits: no answer head within `timeout` is a TimeoutError (504); once the head is there,
 * the body's own watchdog (relayBody()) cuts a store that goes silent while the client reads.
 */
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { droppedReads } from '../dead-reads.js';
import { isClosed, type Response, writeChunk } from '../exchange.js';
import { encodePathSegment } from '../listing/entry.js';
import { S3Signer } from './s3-signer.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ReaderOptions {
  /** The store's URL; undefined for AWS itself (virtual-hosted, https). */
  endpoint: string | undefined;
  region: string;
  credentials: S3Credentials;
  bucket: string;
  /** The connection's keep-alive agents (s3-client.ts), shared with the SDK. */
  agents: { http: HttpAgent; https: HttpsAgent };
  /** Longest wait for an answer's head (and for the next body bytes), in ms. */
  timeout: number;
}

/** A failure to reach the store or to hear from it in time, sorted like the SDK's. */
export class S3RequestError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
    this.name = code === 'ETIMEDOUT' ? 'TimeoutError' : 'Error';
  }
}

/** Encoded key paths remembered at once (a bound, as the source's metadata cache has). */
const PATHS_MAX = 10_000;

export class S3Reader {
  readonly #options: S3ReaderOptions;
  readonly #host: string;
  readonly #port: string;
  readonly #https: boolean;
  readonly #pathPrefix: string;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #signer: S3Signer;
  /** Encoded paths of the keys asked for lately (the same objects are read again and again). */
  readonly #paths = new Map<string, string>();

  constructor(options: S3ReaderOptions) {
    this.#options = options;
    if (options.endpoint === undefined) {
      // AWS itself: virtual-hosted style.
      this.#host = `${options.bucket}.s3.${options.region}.amazonaws.com`;
      this.#port = '';
      this.#https = true;
      this.#pathPrefix = '';
    } else {
      const url = new URL(options.endpoint);
      this.#host = url.hostname;
      this.#port = url.port;
      this.#https = url.protocol === 'https:';
      // Path-style for a custom endpoint (under the endpoint's own path, if it has one).
      this.#pathPrefix = `${url.pathname.replace(/\/$/, '')}/${encodePathSegment(options.bucket)}`;
    }
    this.#agent = this.#https ? options.agents.https : options.agents.http;
    this.#signer = new S3Signer({
      host: this.#port === '' ? this.#host : `${this.#host}:${this.#port}`,
      region: options.region,
      credentials: options.credentials,
    });
  }

  /** The path of `key` (each segment percent-encoded) below the bucket. */
  #objectPath(key: string): string {
    let path = this.#paths.get(key);
    if (path === undefined) {
      path = `${this.#pathPrefix}/${key.split('/').map(encodePathSegment).join('/')}`;
      if (this.#paths.size >= PATHS_MAX) this.#paths.clear();
      this.#paths.set(key, path);
    }
    return path;
  }

  /**
   * Sends a signed HEAD or GET of `key` with `headers` (Range, If-Match), or a PUT with `body`
   * (a part: `query` names it); resolves with the response once its head arrived (the caller
   * reads or destroys the body). The payload is not hashed for the signature (UNSIGNED-PAYLOAD).
   */
  send(
    method: 'HEAD' | 'GET' | 'PUT',
    key: string,
    headers: Record<string, string>,
    options: { query?: Record<string, string>; body?: Uint8Array; timeout?: number } = {},
  ): Promise<IncomingMessage> {
    const body = options.body;
    const sent = this.#start(method, key, headers, options.query, body?.length);
    return sent.end(body, options.timeout ?? this.#options.timeout);
  }

  /**
   * Starts a signed PUT of `length` bytes whose body the caller writes as it comes (a part
   * streamed while the upload's request body arrives). Its answer is awaited only from end() on:
   * until then the body's pace is the caller's to watch.
   */
  streamPut(key: string, query: Record<string, string>, length: number): StreamedPut {
    return this.#start('PUT', key, {}, query, length);
  }

  #start(
    method: 'HEAD' | 'GET' | 'PUT',
    key: string,
    headers: Record<string, string>,
    queryFields: Record<string, string> | undefined,
    length: number | undefined,
  ): StreamedPut {
    const query = Object.entries(queryFields ?? {})
      .map(([name, value]) => `${encodePathSegment(name)}=${encodePathSegment(value)}`)
      .join('&');
    const objectPath = this.#objectPath(key);
    const path = query === '' ? objectPath : `${objectPath}?${query}`;
    // Range is not signed (s3-signer.ts): reads of one object that differ only in it share one
    // signature per second.
    const { Range: range, ...signed } = headers;
    if (length !== undefined) signed['Content-Length'] = String(length);
    const sent = this.#signer.sign(
      method,
      path,
      signed,
      range === undefined ? {} : { Range: range },
    );
    const request = this.#https ? httpsRequest : httpRequest;
    const req = request({
      host: this.#host,
      ...(this.#port === '' ? {} : { port: this.#port }),
      method,
      path,
      headers: sent,
      agent: this.#agent,
    });
    let timer: NodeJS.Timeout | undefined;
    // Settled by the answer's head or the request's failure, whichever comes first (a store may
    // answer before the body is all there); awaited by end().
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          error instanceof S3RequestError
            ? error
            : new S3RequestError(error.message, error.code ?? 'ECONNRESET'),
        );
      });
    });
    // A failure before end() is seen there.
    answer.catch(() => {});
    return {
      write: (bytes) => {
        if (!req.destroyed) req.write(bytes);
      },
      end: (bytes, timeout) => {
        timer = setTimeout(() => {
          req.destroy(
            new S3RequestError(`no answer from the store within ${timeout} ms`, 'ETIMEDOUT'),
          );
        }, timeout);
        if (!req.destroyed) {
          if (bytes === undefined) req.end();
          else req.end(bytes);
        }
        return answer;
      },
      abort: () => {
        req.destroy();
      },
    };
  }
}

/** A request whose body is written as it comes (S3Reader.streamPut()). */
export interface StreamedPut {
  /** Writes the next bytes of the body (the bytes are sent from `bytes`, not copied). */
  write(bytes: Uint8Array): void;
  /** Ends the body with `bytes` and waits at most `timeout` ms for the answer's head. */
  end(bytes: Uint8Array | undefined, timeout: number): Promise<IncomingMessage>;
  /** Gives the request up: it is destroyed before its body is complete, so nothing is stored. */
  abort(): void;
}

/**
 * Copies a store body to the response with backpressure (the store socket pauses while the client
 * is behind) and a watchdog: a store silent for `timeout` while the client could take more ends
 * the copy. Resolves with the bytes copied (fewer than the body's if either side stopped).
 */
export function relayBody(body: IncomingMessage, res: Response, timeout: number): Promise<number> {
  return new Promise((resolve) => {
    let copied = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', finish);
      body.off('error', finish);
      body.off('close', finish);
      res.off('drain', onDrain);
      res.off('close', finish);
      if (!body.complete) body.destroy();
      resolve(copied);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, timeout);
    };
    const onData = (chunk: Buffer) => {
      copied += chunk.length;
      droppedReads(chunk.length);
      if (isClosed(res)) return finish();
      if (writeChunk(res, chunk)) return arm();
      // The client is behind: the store waits, and so does the watchdog.
      clearTimeout(timer);
      body.pause();
    };
    const onDrain = () => {
      body.resume();
      arm();
    };
    body.on('data', onData);
    body.on('end', finish);
    body.on('error', finish);
    body.on('close', finish);
    res.on('drain', onDrain);
    res.on('close', finish);
    arm();
  });
}

/** Reads and drops an error answer's body (so the keep-alive socket can be reused). */
export function discard(body: IncomingMessage): void {
  body.resume();
}
