/**
 * The tus 1.0.0 creation decision (POST to the upload endpoint): creation, creation-with-upload,
 * creation-defer-length and concatenation, with the `filename` rule of issue 12.
 */

import { checkFilename } from './filename.js';
import {
  bodyLength,
  checksumOf,
  expiresHeader,
  field,
  mediaType,
  OFFSET_OCTET_STREAM,
  refuse,
  remaining,
  type TusContext,
} from './tus-context.js';
import {
  type MetadataPair,
  parseUploadConcat,
  parseUploadDeferLength,
  parseUploadLength,
  parseUploadMetadata,
} from './tus-headers.js';
import type { TusPlan } from './tus-plan-types.js';

/** tus 1.0.0 §Creation: a POST to the endpoint. */
export function planCreate(c: TusContext): TusPlan {
  const ext = c.extensions;
  if (!ext.includes('creation')) {
    return refuse(c, 405, 'creation is off', { Allow: 'OPTIONS, HEAD, PATCH, DELETE' });
  }
  const location = c.options.location;
  if (location === undefined) throw new TypeError('planTusRequest(): POST needs options.location');

  const concat = parseUploadConcat(field(c.headers, 'upload-concat'));
  if (concat.kind === 'invalid') return refuse(c, 400, `bad Upload-Concat: ${concat.reason}`);
  if (concat.kind !== 'absent' && !ext.includes('concatenation')) {
    return refuse(c, 400, 'concatenation is off');
  }
  const rawMetadata = field(c.headers, 'upload-metadata');
  const metadata = parseUploadMetadata(rawMetadata, { maxLength: c.options.maxMetadataLength });
  // Issue 12: "metadata has a size cap". RFC 6585 §5: 431 when "a single header field is too
  // large".
  if (metadata.kind === 'too-large') {
    return refuse(c, 431, `Upload-Metadata above ${metadata.limit} characters`);
  }
  if (metadata.kind === 'invalid') return refuse(c, 400, `bad Upload-Metadata: ${metadata.reason}`);
  const pairs = metadata.kind === 'ok' ? metadata.pairs : [];

  // Issue 12: `filename` is required except on a partial upload, which carries no name; checked
  // with the URL path rules, a bad one is 400 and nothing is written anywhere.
  let filename: string[] | undefined;
  if (concat.kind !== 'partial') {
    const named = filenameOf(pairs, c.options.dotfiles === true);
    if (typeof named === 'string') return refuse(c, 400, named);
    filename = named;
  }

  const headers = {
    ...c.base,
    Location: location,
    ...expiresHeader(c, c.options.expires),
  };
  const lengthHeader = field(c.headers, 'upload-length');
  const deferHeader = field(c.headers, 'upload-defer-length');
  const body = bodyLength(c.headers);
  if (body === 'invalid') return refuse(c, 400, 'bad Content-Length');
  const hasBody = body === 'unknown' || body > 0;

  if (concat.kind === 'final') {
    // tus 1.0.0 §Concatenation: "The Client MUST NOT include the Upload-Length header in the final
    // upload creation." The final upload's bytes come from its partial uploads, never a body.
    if (lengthHeader !== undefined || deferHeader !== undefined) {
      return refuse(c, 400, 'a final upload has no Upload-Length');
    }
    if (hasBody) return refuse(c, 400, 'a final upload has no body');
    // tus 1.0.0 §Creation: "The Server MUST acknowledge a successful upload creation with the 201
    // Created status. The Server MUST set the Location header to the URL of the created resource."
    return {
      status: 201,
      headers,
      action: {
        kind: 'create-final',
        urls: concat.urls,
        filename: filename as string[],
        metadata: pairs,
        rawMetadata,
      },
    };
  }

  // tus 1.0.0 §Creation: "The Client MUST send a POST request against a known upload creation URL
  // to request a new upload resource. The request MUST include one of the following headers:
  // a) Upload-Length to indicate the size of an entire upload in bytes. b) Upload-Defer-Length: 1
  // if upload size is not known at the time."
  const length = parseUploadLength(lengthHeader);
  const defer = parseUploadDeferLength(deferHeader);
  if (length.kind === 'invalid') return refuse(c, 400, 'bad Upload-Length');
  if (defer.kind === 'invalid') return refuse(c, 400, 'Upload-Defer-Length must be 1');
  if (length.kind === 'absent' && defer.kind === 'absent') {
    return refuse(c, 400, 'neither Upload-Length nor Upload-Defer-Length');
  }
  if (length.kind !== 'absent' && defer.kind !== 'absent') {
    return refuse(c, 400, 'both Upload-Length and Upload-Defer-Length');
  }
  if (defer.kind === 'deferred' && !c.extensions.includes('creation-defer-length')) {
    return refuse(c, 400, 'creation-defer-length is off');
  }
  // tus 1.0.0 §Creation: "If the length of the upload exceeds the maximum, which MAY be specified
  // using the Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large
  // status."
  const max = c.options.maxSize;
  if (
    length.kind === 'too-large' ||
    (length.kind === 'ok' && max !== undefined && length.value > max)
  ) {
    return refuse(c, 413, 'Upload-Length above Tus-Max-Size');
  }
  const declared = length.kind === 'ok' ? length.value : undefined;
  const create = {
    kind: 'create' as const,
    length: declared,
    filename,
    metadata: pairs,
    rawMetadata,
    partial: concat.kind === 'partial',
  };
  // tus 1.0.0 §Creation With Upload: "the Client MAY include parts of the upload in the initial
  // Creation request [...] using the Content-Type: application/offset+octet-stream header".
  if (!hasBody) return { status: 201, headers, action: create };
  if (!c.extensions.includes('creation-with-upload')) {
    return refuse(c, 400, 'creation-with-upload is off');
  }
  if (mediaType(field(c.headers, 'content-type')) !== OFFSET_OCTET_STREAM) {
    return refuse(c, 415, `Content-Type is not ${OFFSET_OCTET_STREAM}`);
  }
  const limit = remaining(c, declared, 0);
  if (typeof body === 'number' && body > limit) return refuse(c, 413, 'body past Upload-Length');
  const checksum = checksumOf(c);
  if ('refusal' in checksum) return checksum.refusal;
  // tus 1.0.0 §Creation With Upload: "the Server MUST include the Upload-Offset header in the
  // response", added by the shell after the body (finishTusBody()).
  return {
    status: 201,
    headers,
    action: { ...create, append: { offset: 0, limit, ...checksum.value } },
  };
}

/** The checked `filename` metadata's segments, or why it is refused. */
function filenameOf(pairs: readonly MetadataPair[], dotfiles: boolean): string[] | string {
  const pair = pairs.find((p) => p.key === 'filename');
  if (pair === undefined) return 'no filename metadata';
  if (pair.text === undefined) return 'filename is not UTF-8';
  const checked = checkFilename(pair.text, { dotfiles });
  return checked.kind === 'ok' ? checked.segments : `bad filename: ${checked.reason}`;
}
