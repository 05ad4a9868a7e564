/**
 * The tus 1.0.0 request decision (https://tus.io/protocols/resumable-upload) as a function of its
 * inputs (house rule 1): the shell looks up the upload and checks the token, this decides the
 * status, the headers and what to store; the shell stores it and, after the body, asks
 * finishTusBody() for the final status.
 */

import {
  algorithms,
  bodyLength,
  checksumOf,
  expiresHeader,
  field,
  mediaType,
  NONE,
  OFFSET_OCTET_STREAM,
  refuse,
  remaining,
  type TusContext,
  type TusRequestHeaders,
} from './tus-context.js';
import { planCreate } from './tus-create.js';
import { parseTusResumable, parseUploadLength, parseUploadOffset } from './tus-headers.js';
import type {
  TusAction,
  TusExtension,
  TusPlan,
  TusPlanOptions,
  TusUploadState,
} from './tus-plan-types.js';

export { OFFSET_OCTET_STREAM, type TusRequestHeaders } from './tus-context.js';
export type * from './tus-plan-types.js';

export const TUS_EXTENSIONS: readonly TusExtension[] = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'checksum',
  'expiration',
  'concatenation',
];

/** 460 Checksum Mismatch (tus 1.0.0 §Checksum). */
export const CHECKSUM_MISMATCH = 460;

/**
 * Decides one tus request. `state` is the upload the URL names, or undefined (the creation
 * endpoint for POST, an unknown upload otherwise). `options.token` is the shell's bearer check.
 */
export function planTusRequest(
  method: string,
  headers: TusRequestHeaders,
  state: TusUploadState | undefined,
  options: TusPlanOptions,
): TusPlan {
  const versions = options.versions ?? ['1.0.0'];
  const c: TusContext = {
    headers,
    options,
    extensions: options.extensions ?? TUS_EXTENSIONS,
    versions,
    base: { 'Tus-Resumable': versions[0] ?? '1.0.0' },
  };
  // tus 1.0.0 §X-HTTP-Method-Override: "MUST be interpreted as the request's method by the
  // Server, if the header is presented."
  const override = field(headers, 'x-http-method-override');
  const m = (override ?? method).trim().toUpperCase();
  // tus 1.0.0 §OPTIONS: the request needs no Tus-Resumable; issue 12: and no token.
  if (m === 'OPTIONS') return planOptions(c);

  // tus 1.0.0 §Tus-Resumable: "The Tus-Resumable header MUST be included in every request and
  // response except for OPTIONS requests. [...] If the Client requests the use of a version which
  // the Server does not support, the Server MUST reject the request and MUST respond with the 412
  // Precondition Failed status and MUST include the Tus-Version header into the response."
  const version = parseTusResumable(field(headers, 'tus-resumable'), versions);
  if (version.kind !== 'ok') {
    const why = version.kind === 'absent' ? 'no Tus-Resumable' : `version ${version.version}`;
    return refuse(c, 412, why, { 'Tus-Version': versions.join(',') });
  }
  // Issue 12: every upload request but OPTIONS needs the token; nothing is stored without it.
  if (options.token !== 'ok') {
    return refuse(c, 401, `${options.token} token`, { 'WWW-Authenticate': 'Bearer' });
  }
  switch (m) {
    case 'POST':
      return planCreate(c);
    case 'HEAD':
      return planHead(c, state);
    case 'PATCH':
      return planPatch(c, state);
    case 'DELETE':
      return planDelete(c, state);
    default:
      return refuse(c, 405, `method ${m}`, { Allow: 'OPTIONS, POST, HEAD, PATCH, DELETE' });
  }
}

/** The 404 or 410 for an upload that is not there (tus 1.0.0 §HEAD, §PATCH, §Termination). */
function gone(c: TusContext, state: TusUploadState | undefined): TusPlan | undefined {
  // tus 1.0.0 §HEAD: "If the resource is not found, the Server SHOULD return either the 404 Not
  // Found, 410 Gone or 403 Forbidden status without the Upload-Offset header." Issue 12: an
  // expired or terminated upload is 410, one never seen 404.
  if (state === undefined) return refuse(c, 404, 'unknown upload');
  if (state.status === 'expired') return refuse(c, 410, 'upload expired');
  if (state.status === 'terminated') return refuse(c, 410, 'upload terminated');
  return undefined;
}

/** tus 1.0.0 §OPTIONS: the server's configuration, 204 (or 200). */
function planOptions(c: TusContext): TusPlan {
  const headers: Record<string, string> = {
    ...c.base,
    'Tus-Version': c.versions.join(','),
  };
  if (c.extensions.length > 0) headers['Tus-Extension'] = c.extensions.join(',');
  // tus 1.0.0 §Tus-Max-Size: "an integer indicating the maximum allowed size of an entire upload".
  if (c.options.maxSize !== undefined) headers['Tus-Max-Size'] = String(c.options.maxSize);
  // tus 1.0.0 §Checksum: "The Tus-Checksum-Algorithm response header MUST be a comma-separated
  // list of the checksum algorithms supported by the server."
  if (c.extensions.includes('checksum')) {
    headers['Tus-Checksum-Algorithm'] = algorithms(c).join(',');
  }
  return { status: 204, headers, action: NONE };
}

/** tus 1.0.0 §HEAD. */
function planHead(c: TusContext, state: TusUploadState | undefined): TusPlan {
  // tus 1.0.0 §HEAD: "The Server MUST prevent the client and/or proxies from caching the response
  // by adding the Cache-Control: no-store header to the response."
  const noStore = { 'Cache-Control': 'no-store' };
  const missing = gone(c, state);
  if (missing !== undefined) return { ...missing, headers: { ...missing.headers, ...noStore } };
  const s = state as TusUploadState;
  const headers: Record<string, string> = { ...c.base, ...noStore };
  const isFinal = s.concat?.kind === 'final';
  // tus 1.0.0 §Concatenation: "The response to a HEAD request for a final upload SHOULD NOT
  // contain the Upload-Offset header unless the concatenation has been successfully finished."
  if (!isFinal || s.status === 'complete') headers['Upload-Offset'] = String(s.offset);
  // tus 1.0.0 §HEAD: "If the size of the upload is known, the Server MUST include the
  // Upload-Length header in the response." §Creation, Upload-Defer-Length: "the Server MUST set
  // Upload-Defer-Length: 1 in HEAD requests" while the length is not known.
  if (s.length !== undefined) headers['Upload-Length'] = String(s.length);
  else if (!isFinal) headers['Upload-Defer-Length'] = '1';
  // tus 1.0.0 §Creation: "If an upload contains additional metadata, responses to HEAD requests
  // MUST include the Upload-Metadata header and its value as specified by the Client during the
  // creation."
  if (s.metadata !== undefined) headers['Upload-Metadata'] = s.metadata;
  // tus 1.0.0 §Concatenation: "The Server MUST respond with the Upload-Concat header to HEAD
  // requests [for partial and final uploads]."
  if (s.concat?.kind === 'partial') headers['Upload-Concat'] = 'partial';
  if (s.concat?.kind === 'final') headers['Upload-Concat'] = `final;${s.concat.urls.join(' ')}`;
  Object.assign(headers, expiresHeader(c, s.status === 'active' ? s.expires : undefined));
  // tus 1.0.0 §HEAD: "The Server SHOULD acknowledge successful HEAD requests with a 200 OK or 204
  // No Content status."
  return { status: 200, headers, action: NONE };
}

/** tus 1.0.0 §Termination. */
function planDelete(c: TusContext, state: TusUploadState | undefined): TusPlan {
  if (!c.extensions.includes('termination')) {
    return refuse(c, 405, 'termination is off', { Allow: 'OPTIONS, POST, HEAD, PATCH' });
  }
  const missing = gone(c, state);
  if (missing !== undefined) return missing;
  // tus 1.0.0 §Termination: "When receiving a DELETE request for an existing upload the Server
  // SHOULD free associated resources and MUST respond with the 204 No Content status confirming
  // that the upload was terminated. For all future requests to this URL, the Server SHOULD respond
  // with the 404 Not Found or 410 Gone status."
  return { status: 204, headers: { ...c.base }, action: { kind: 'terminate' } };
}

/** tus 1.0.0 §PATCH (core protocol), with the checksum and creation-defer-length extensions. */
function planPatch(c: TusContext, state: TusUploadState | undefined): TusPlan {
  const missing = gone(c, state);
  if (missing !== undefined) return missing;
  const s = state as TusUploadState;
  // tus 1.0.0 §Concatenation: "The Server MUST respond with the 403 Forbidden status to PATCH
  // requests against a final upload URL and MUST NOT modify the final or its partial uploads."
  if (s.concat?.kind === 'final') return refuse(c, 403, 'PATCH of a final upload');
  // tus 1.0.0 §PATCH: "All PATCH requests MUST use Content-Type: application/offset+octet-stream,
  // otherwise the server SHOULD return a 415 Unsupported Media Type status."
  if (mediaType(field(c.headers, 'content-type')) !== OFFSET_OCTET_STREAM) {
    return refuse(c, 415, `Content-Type is not ${OFFSET_OCTET_STREAM}`);
  }
  const offset = parseUploadOffset(field(c.headers, 'upload-offset'));
  if (offset.kind !== 'ok') return refuse(c, 400, `Upload-Offset ${offset.kind}`);
  const checksum = checksumOf(c);
  if ('refusal' in checksum) return checksum.refusal;
  const declared = declaredLength(c, s);
  if ('refusal' in declared) return declared.refusal;
  // tus 1.0.0 §PATCH: "If the offsets do not match, the Server MUST respond with the 409 Conflict
  // status without modifying the upload resource." Issue 12: with the current offset.
  if (offset.value !== s.offset) {
    return refuse(c, 409, `Upload-Offset ${offset.value} is not ${s.offset}`, {
      'Upload-Offset': String(s.offset),
    });
  }
  const limit = remaining(c, declared.length ?? s.length, s.offset);
  const body = bodyLength(c.headers);
  if (body === 'invalid') return refuse(c, 400, 'bad Content-Length');
  if (typeof body === 'number' && body > limit) {
    return refuse(c, 413, `${body} bytes past the upload's end`, {
      'Upload-Offset': String(s.offset),
    });
  }
  const action: TusAction = {
    kind: 'append',
    append: { offset: s.offset, limit, ...checksum.value },
    ...(declared.length !== undefined && s.length === undefined
      ? { declareLength: declared.length }
      : {}),
  };
  // tus 1.0.0 §PATCH: "The Server MUST acknowledge successful PATCH requests with the 204 No
  // Content status. It MUST include the Upload-Offset header containing the new offset." The
  // shell adds it after the body (finishTusBody()). §Expiration: "This header MUST be included in
  // every PATCH response if the upload is going to expire."
  return { status: 204, headers: { ...c.base, ...expiresHeader(c, c.options.expires) }, action };
}

/** A PATCH's Upload-Length: declares a deferred length once (tus 1.0.0 §Creation). */
function declaredLength(
  c: TusContext,
  s: TusUploadState,
): { length: number | undefined } | { refusal: TusPlan } {
  const parsed = parseUploadLength(field(c.headers, 'upload-length'));
  if (parsed.kind === 'absent') return { length: undefined };
  if (parsed.kind === 'invalid') return { refusal: refuse(c, 400, 'bad Upload-Length') };
  const max = c.options.maxSize;
  if (parsed.kind === 'too-large' || (max !== undefined && parsed.value > max)) {
    return { refusal: refuse(c, 413, 'Upload-Length above Tus-Max-Size') };
  }
  // tus 1.0.0 §Creation, Upload-Defer-Length: "Once [the length] is known the Client MUST set the
  // Upload-Length header in the next PATCH request. Once set the length MUST NOT be changed."
  if (s.length !== undefined && parsed.value !== s.length) {
    return { refusal: refuse(c, 400, 'Upload-Length cannot change') };
  }
  if (parsed.value < s.offset) return { refusal: refuse(c, 400, 'Upload-Length below the offset') };
  return { length: parsed.value };
}

/** What happened to a body the plan let in (an `append`). */
export type TusBodyOutcome =
  /** Every byte of the body is stored and durable; `offset` is the upload's new offset. */
  | { kind: 'stored'; offset: number }
  /** The body's digest differed; its bytes were discarded and `offset` did not move. */
  | { kind: 'checksum-mismatch'; offset: number }
  /** The body ran past `append.limit`; `offset` is what was stored up to the limit. */
  | { kind: 'too-large'; offset: number };

/**
 * The response after the body of a PATCH (or a POST with creation-with-upload), from the plan
 * planTusRequest() gave and what the shell stored.
 */
export function finishTusBody(
  plan: TusPlan,
  outcome: TusBodyOutcome,
): { status: number; headers: Record<string, string> } {
  const headers = { ...plan.headers, 'Upload-Offset': String(outcome.offset) };
  if (outcome.kind === 'stored') return { status: plan.status, headers };
  // A creation with upload made the upload before its body: it keeps 201 and its Location, and the
  // offset tells the client what to send again.
  if (plan.status === 201) return { status: 201, headers };
  // tus 1.0.0 §Checksum: "460 Checksum Mismatch if the checksums mismatch" — "the Server [...]
  // MUST discard the chunk and not update the offset".
  if (outcome.kind === 'checksum-mismatch') return { status: CHECKSUM_MISMATCH, headers };
  return { status: 413, headers };
}
