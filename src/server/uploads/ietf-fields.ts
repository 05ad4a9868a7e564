/**
 * The field adapter for draft-ietf-httpbis-resumable-upload: reads the draft's request header fields
 * as RFC 9651 Structured Fields (with structured-headers, not by hand) into the plain object the
 * pure planner takes (core/upload/ietf-plan.ts), and serialises the planner's response fields.
 * Network input never throws here: a field of the wrong structured type is `'invalid'`.
 */

import {
  type BareItem,
  parseItem,
  serializeBoolean,
  serializeDictionary,
  serializeInteger,
} from 'structured-headers';
import type {
  IetfLimits,
  IetfRequestFields,
  IetfResponseFields,
} from '../../core/upload/ietf-plan-types.js';

/** Request header fields by lower-case name (node:http's `IncomingMessage.headers` shape). */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** A field's value; repeated lines are combined with ", " (RFC 9110 §5.3). */
function fieldValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The bare item of an Item field, or `'invalid'` when the value is no Item (RFC 9651 §4.2). */
function bareItem(value: string): BareItem | 'invalid' {
  try {
    return parseItem(value)[0];
  } catch {
    return 'invalid';
  }
}

/**
 * An Integer Item (RFC 9651 §3.3.1). structured-headers returns Integers and Decimals both as
 * numbers, so a bare item written with a "." (always a Decimal, §4.1.5) is refused here.
 */
function integerItem(value: string | undefined, min: number): number | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const bare = bareItem(value);
  if (typeof bare !== 'number' || !Number.isInteger(bare) || bare < min) return 'invalid';
  const text = value.trim().split(';', 1)[0] ?? '';
  return text.includes('.') ? 'invalid' : bare;
}

/** A Boolean Item (RFC 9651 §3.3.6): `?1` or `?0`. */
function booleanItem(value: string | undefined): boolean | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const bare = bareItem(value);
  return typeof bare === 'boolean' ? bare : 'invalid';
}

/** The body's length: Content-Length, `'unknown'` when chunked, undefined without a body. */
function contentLengthOf(headers: IncomingHeaders): number | 'unknown' | 'invalid' | undefined {
  const value = fieldValue(headers, 'content-length');
  if (value !== undefined) {
    // RFC 9110 §8.6: Content-Length = 1*DIGIT. House rule 5: strict digits; a huge value clamps,
    // so it is above any limit.
    if (!/^[0-9]+$/.test(value.trim())) return 'invalid';
    const n = Number(value.trim());
    return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
  }
  return fieldValue(headers, 'transfer-encoding') !== undefined ? 'unknown' : undefined;
}

/**
 * Reads the draft's fields. Draft-12 §State: `Upload-Offset` and `Upload-Length` are "a
 * non-negative Integer", `Upload-Complete` "a Boolean"; §Draft Version Identification: "The
 * `Upload-Draft-Interop-Version` field value is an Integer."
 */
export function readIetfFields(headers: IncomingHeaders): IetfRequestFields {
  const contentType = fieldValue(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  return {
    interopVersion: integerItem(fieldValue(headers, 'upload-draft-interop-version'), 0),
    complete: booleanItem(fieldValue(headers, 'upload-complete')),
    offset: integerItem(fieldValue(headers, 'upload-offset'), 0),
    length: integerItem(fieldValue(headers, 'upload-length'), 0),
    contentType: contentType === '' ? undefined : contentType,
    contentLength: contentLengthOf(headers),
  };
}

/**
 * The draft's response fields as header values: Integers, a Boolean (`?1`/`?0`) and the
 * `Upload-Limit` Dictionary (draft-12 §Limits: "`Upload-Limit` is a Dictionary Structured Header
 * Field").
 */
export function serializeIetfFields(fields: IetfResponseFields): Record<string, string> {
  const out: Record<string, string> = {};
  if (fields.interopVersion !== undefined) {
    out['Upload-Draft-Interop-Version'] = serializeInteger(fields.interopVersion);
  }
  if (fields.complete !== undefined) out['Upload-Complete'] = serializeBoolean(fields.complete);
  if (fields.offset !== undefined) out['Upload-Offset'] = serializeInteger(fields.offset);
  if (fields.length !== undefined) out['Upload-Length'] = serializeInteger(fields.length);
  if (fields.limit !== undefined) out['Upload-Limit'] = serializeLimits(fields.limit);
  return out;
}

function serializeLimits(limits: IetfLimits): string {
  const members: Record<string, number> = {};
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value === 'number') members[key] = value;
  }
  return serializeDictionary(members);
}

/** A plan's (or its 104's, or finishIetfBody()'s) plain headers and serialised fields together. */
export function ietfHeaders(part: {
  headers: Record<string, string>;
  fields: IetfResponseFields;
}): Record<string, string> {
  return { ...part.headers, ...serializeIetfFields(part.fields) };
}
