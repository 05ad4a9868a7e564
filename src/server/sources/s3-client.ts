/**
 * The S3 client the S3 source and its upload store share: built from the standard AWS variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL) and
 * the `--s3-endpoint` option, with path-style addressing for custom endpoints and bounded waits.
 *
 * `@aws-sdk/client-s3` is loaded here only, by a dynamic import, when an `s3://` source is used:
 * `ranged serve DIR` and `ranged get` never load it.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { StoreUnavailableError } from '../uploads/store-types.js';

export type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3ConnectOptions {
  /** The store's URL (`http://127.0.0.1:7480`); wins over AWS_ENDPOINT_URL. */
  endpoint?: string | undefined;
  /** The environment to read the AWS variables from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Longest wait for the store to answer a request's head, in ms (then 504). @default 10_000 */
  timeout?: number;
}

export interface S3Connection {
  sdk: S3Sdk;
  client: S3Client;
  endpoint: string | undefined;
  region: string;
  /**
   * The keep-alive connections to the store, shared by the SDK and the lean requests
   * (s3-reader.ts) of every user of this connection.
   */
  agents: { http: HttpAgent; https: HttpsAgent };
  /** The credentials from the environment (for the lean reader, s3-reader.ts). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Longest wait for an answer from the store, in ms. */
  timeout: number;
}

export class S3ConfigError extends Error {}

/** Makes the client; throws S3ConfigError for missing credentials or a bad endpoint. */
export async function connectS3(options: S3ConnectOptions = {}): Promise<S3Connection> {
  const env = options.env ?? process.env;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new S3ConfigError(
      'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)',
    );
  }
  const endpoint = options.endpoint || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new S3ConfigError(`"${endpoint}" is not a URL (expected http(s)://HOST[:PORT])`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new S3ConfigError(`"${endpoint}" is not an http(s) URL`);
    }
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const credentials = {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
  const timeout = options.timeout ?? 10_000;
  // The SDK warns on every start under Node 20 that its releases after January 2027 need Node 22:
  // the version this package locks runs on Node 20, and the warning would be a second line on
  // every `ranged serve s3://…` start. Whoever sets the variable keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [sdk, { Agent }, { Agent: HttpsAgent }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('node:http'),
    import('node:https'),
  ]);
  const agentOptions = { keepAlive: true, maxSockets: 256 };
  const agents = { http: new Agent(agentOptions), https: new HttpsAgent(agentOptions) };
  const client = new sdk.S3Client({
    region,
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    credentials,
    // Ceph RGW 16.2 answers part uploads with 500 when the SDK adds its default CRC32 checksums
    // (FIELD.md): checksums only where an operation requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Retries are the client's business (it resumes): one attempt keeps the 502/504 bounded.
    maxAttempts: 1,
    // The SDK's Node handler, configured by its options: a bounded connect and a bounded wait
    // for each answer (its socket timeout).
    requestHandler: {
      connectionTimeout: Math.min(timeout, 5_000),
      requestTimeout: timeout,
      // Without it the handler only logs a warning when the store stays silent.
      throwOnRequestTimeout: true,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    },
  });
  return { sdk, client, endpoint, region, agents, credentials, timeout };
}

/** What an S3 failure means for the answer to a client. */
export type S3Failure =
  | { kind: 'missing' }
  | { kind: 'changed' }
  /** The store answered with an error (5xx), or refused the connection: 502. */
  | { kind: 'refused'; detail: string }
  /** The store did not answer in time: 504. */
  | { kind: 'timeout'; detail: string };

/** Sorts an error thrown by the S3 client. */
export function s3Failure(error: unknown): S3Failure {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? '';
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') return { kind: 'missing' };
  if (status === 412 || name === 'PreconditionFailed') return { kind: 'changed' };
  const detail = `${name || 'Error'}${status ? ` (${status})` : ''}: ${e?.message ?? ''}`.trim();
  const code = e?.code ?? '';
  // As nginx answers for its upstreams: a store that did not answer in time is 504; one that
  // refused the connection or answered with an error is 502.
  // The SDK names a reset connection a TimeoutError too: the code tells them apart.
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) {
    return { kind: 'refused', detail };
  }
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT') {
    return { kind: 'timeout', detail };
  }
  return { kind: 'refused', detail };
}

/**
 * The error a failed store request is answered with (`what` says which): 504 when the store did
 * not answer in time, 502 when it refused or answered an error (a missing object or a failed
 * precondition is the caller's to sort before this).
 */
export function storeUnavailable(error: unknown, what: string): StoreUnavailableError {
  const failure = s3Failure(error);
  const detail =
    failure.kind === 'timeout' || failure.kind === 'refused' ? failure.detail : failure.kind;
  return new StoreUnavailableError(`${what}: ${detail}`, failure.kind === 'timeout' ? 504 : 502, {
    cause: error,
  });
}
