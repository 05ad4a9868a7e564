/**
 * What the tus planners (tus-plan.ts, tus-create.ts) share: the request's context, header access,
 * refusals, and the checks PATCH and creation-with-upload both make.
 */

import { parseUploadChecksum, parseUploadLength } from './tus-headers.js';
import type {
  TusAction,
  TusAppend,
  TusExtension,
  TusPlan,
  TusPlanOptions,
} from './tus-plan-types.js';

/** Request header fields by lower-case name (node:http's `IncomingMessage.headers` shape). */
export type TusRequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** tus 1.0.0 §PATCH: "All PATCH requests MUST use Content-Type: application/offset+octet-stream". */
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';

export const NONE: TusAction = { kind: 'none' };

export interface TusContext {
  headers: TusRequestHeaders;
  options: TusPlanOptions;
  extensions: readonly TusExtension[];
  versions: readonly string[];
  /** The headers of every response: Tus-Resumable. */
  base: Record<string, string>;
}

export function field(headers: TusRequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function refuse(
  c: TusContext,
  status: number,
  reason: string,
  extra: Record<string, string> = {},
): TusPlan {
  // tus 1.0.0 §Tus-Max-Size: the limit a 413 refers to, so the client learns it with the refusal.
  const max = c.options.maxSize;
  const limit = status === 413 && max !== undefined ? { 'Tus-Max-Size': String(max) } : {};
  return { status, headers: { ...c.base, ...limit, ...extra }, action: NONE, reason };
}

/** RFC 9110 §5.6.7 IMF-fixdate, as Upload-Expires wants it (tus 1.0.0 §Expiration). */
export function expiresHeader(c: TusContext, ms: number | undefined): Record<string, string> {
  if (ms === undefined || !c.extensions.includes('expiration')) return {};
  return { 'Upload-Expires': new Date(ms).toUTCString() };
}

/** The media type of Content-Type, without parameters, in lower case. */
export function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase();
}

/** The body's announced length: Content-Length, `unknown` when chunked, 0 without a body. */
export function bodyLength(headers: TusRequestHeaders): number | 'unknown' | 'invalid' {
  const cl = parseUploadLength(field(headers, 'content-length'));
  if (cl.kind === 'ok') return cl.value;
  if (cl.kind === 'invalid' || cl.kind === 'too-large') return 'invalid';
  return field(headers, 'transfer-encoding') !== undefined ? 'unknown' : 0;
}

/** The bytes an upload may still take: to its length, or to Tus-Max-Size while deferred. */
export function remaining(c: TusContext, length: number | undefined, offset: number): number {
  const end = length ?? c.options.maxSize ?? Number.MAX_SAFE_INTEGER;
  return Math.max(0, end - offset);
}

export function algorithms(c: TusContext): readonly string[] {
  return c.options.checksumAlgorithms ?? ['md5', 'sha1', 'sha256'];
}

export type Checked<T> = { value: T } | { refusal: TusPlan };

/** tus 1.0.0 §Checksum: the Upload-Checksum of a body, when the extension is on. */
export function checksumOf(c: TusContext): Checked<Pick<TusAppend, 'checksum'>> {
  const header = field(c.headers, 'upload-checksum');
  if (header === undefined || !c.extensions.includes('checksum')) return { value: {} };
  const parsed = parseUploadChecksum(header, algorithms(c));
  // tus 1.0.0 §Checksum: "The Server MAY respond with one of the following status code: 400 Bad
  // Request if the checksum algorithm is not supported by the server".
  if (parsed.kind === 'unsupported') {
    return { refusal: refuse(c, 400, `checksum algorithm ${parsed.algorithm} not supported`) };
  }
  if (parsed.kind !== 'ok') return { refusal: refuse(c, 400, 'bad Upload-Checksum') };
  return { value: { checksum: { algorithm: parsed.algorithm, digest: parsed.digest } } };
}
