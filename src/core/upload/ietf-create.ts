/**
 * The decision for a PUT or POST to a target path: an upload creation
 * (draft-ietf-httpbis-resumable-upload), or a plain PUT that stores the whole body atomically.
 */

import {
  appendLimit,
  type IetfContext,
  inconsistentLength,
  isModern,
  limitsOf,
  refuse,
  tooLarge,
} from './ietf-context.js';
import type { IetfPlan } from './ietf-plan-types.js';

/** A PUT or POST whose path names the file to write. */
export function planTargetWrite(c: IetfContext, method: 'PUT' | 'POST'): IetfPlan {
  const { complete } = c.request.fields;
  // Draft-12 §Upload Creation, Client Behavior: "A client can start a resumable upload from any
  // request that can carry content by including the `Upload-Complete` header field". Without it
  // the request is no creation, whatever else it carries.
  if (complete === undefined) {
    if (method === 'POST') return refuse(c, 400, 'POST to a path needs Upload-Complete');
    return planPlainPut(c);
  }
  // Draft-12 §Completeness: "Other values MUST cause the entire header field to be ignored."
  // ranged refuses instead: ignoring a broken `?0` would store a part as the whole file.
  if (complete === 'invalid') return refuse(c, 400, 'bad Upload-Complete');
  if (c.version === undefined) {
    // Draft-12 §Draft Version Identification: the server "MUST NOT send a `104 (Upload Resumption
    // Supported)` interim response when the interop version [...] is missing or mismatching".
    // §Upgrading To Resumable Uploads: "A resource that does not support resumable uploads or does
    // not want to upgrade to a resumable upload for this request ignores the `Upload-Complete: ?1`
    // header. The transfer then falls back to a non-resumable upload".
    if (complete) return planPlainPut(c);
    const spoken = c.versions.join(', ');
    return refuse(c, 400, `Upload-Complete: ?0 needs Upload-Draft-Interop-Version ${spoken}`);
  }
  return planCreate(c, complete);
}

/** Issue 12: a PUT without the draft's fields stores the body atomically, all or nothing. */
function planPlainPut(c: IetfContext): IetfPlan {
  const { contentLength } = c.request.fields;
  if (contentLength === 'invalid') return refuse(c, 400, 'bad Content-Length');
  // Issue 12: a target that exists, or that another unfinished upload targets, is 409.
  if (c.request.targetTaken === true) return refuse(c, 409, 'target exists');
  const max = c.options.maxSize;
  if (typeof contentLength === 'number' && max !== undefined && contentLength > max) {
    return refuse(c, 413, `${contentLength} bytes above the maximum upload size`);
  }
  // RFC 9110 §9.3.4: "If the target resource does not have a current representation and the PUT
  // successfully creates one, then the origin server MUST inform the user agent by sending a 201
  // (Created) response." The shell sends it once the body is stored (finishIetfBody()).
  return {
    status: 201,
    headers: {},
    fields: {},
    action: { kind: 'plain-put', limit: max ?? Number.MAX_SAFE_INTEGER },
  };
}

/** Draft-12 §Upload Creation, Server Behavior; draft-05 §Upload Creation. */
function planCreate(c: IetfContext, complete: boolean): IetfPlan {
  const f = c.request.fields;
  // Draft-05 §Upload Creation: "The request MUST NOT include the `Upload-Offset` header field."
  if (c.version === 6 && f.offset !== undefined) {
    return refuse(c, 400, 'Upload-Offset in a creation');
  }
  if (f.length === 'invalid') return refuse(c, 400, 'bad Upload-Length');
  const body = f.contentLength ?? 0;
  if (body === 'invalid') return refuse(c, 400, 'bad Content-Length');
  if (c.request.targetTaken === true) {
    // Issue 12: 409 for a taken target. Draft-12 §Completeness: "The value of true means that the
    // semantics of the targeted resource apply [...] The client SHOULD NOT perform upload
    // resumption to the upload resource after receiving a response with the `Upload-Complete`
    // field value set to true."
    return refuse(c, 409, 'target exists', isModern(c) ? { fields: { complete: true } } : {});
  }
  const location = c.options.location;
  if (location === undefined)
    throw new TypeError('planIetfRequest(): a creation needs options.location');

  // Draft-12 §Length: "1. If the request includes the `Upload-Complete` field value set to true,
  // the request content is the remaining representation data. The representation's length is then
  // the sum of the current offset and the request content's length [...] 2. The request can include
  // the `Upload-Length` header field [...] If indicators (1) and (2) are both present in the same
  // request, their indicated lengths MUST match."
  let length = typeof f.length === 'number' ? f.length : undefined;
  if (complete && typeof body === 'number') {
    if (length !== undefined && length !== body) {
      return inconsistentLength(c, `Upload-Length ${length} but ${body} bytes complete it`);
    }
    length = body;
  }
  if (length !== undefined && typeof body === 'number' && body > length) {
    return inconsistentLength(c, `${body} bytes past Upload-Length ${length}`);
  }
  // Draft-12 §Limits, `max-size`: "The server might not create an upload resource if the
  // representation's length deduced from the upload creation request is larger than the maximum
  // size." Issue 12: `--max-upload-size` gives 413.
  const max = c.options.maxSize;
  if (max !== undefined && (length ?? (typeof body === 'number' ? body : 0)) > max) {
    return tooLarge(c, 'upload above the maximum size');
  }
  const limit = limitsOf(c);
  // Draft-12 §Upload Creation, Server Behavior: "If the `Upload-Complete` request header field is
  // set to false [...] the server MUST include the `Location` response header field pointing to
  // the upload resource and MUST include the `Upload-Limit` header field [...] Servers are
  // RECOMMENDED to use the `201 (Created)` status code." With `?1` the response is the target
  // resource's: the file was created at the path, so 201 as well (draft-05: "Servers are
  // RECOMMENDED to use `201 (Created)`"). Location names the upload resource in both cases:
  // tus-js-client 4.3.1 fails a creation response without it, and draft-12 exempts `?1` responses
  // only from the rule that Location must be identical, not from carrying it.
  return {
    status: 201,
    headers: { Location: location },
    fields: { limit },
    action: {
      kind: 'create',
      complete,
      ...(length !== undefined ? { length } : {}),
      append: { offset: 0, ...appendLimit(c, length, 0) },
    },
    // Draft-12 §Upload Creation, Server Behavior: "the server SHOULD announce the upload resource
    // by sending an interim response with the `104 (Upload Resumption Supported)` status code [...]
    // it MUST include `Location` header field pointing to the upload resource and MUST include the
    // `Upload-Limit` header field with the corresponding limits". §Draft Version Identification:
    // the server "MUST also send a header field `Upload-Draft-Interop-Version` with the interop
    // version as its value to the `104 (Upload Resumption Supported)` interim response."
    interim: {
      status: 104,
      headers: { Location: location },
      fields: { interopVersion: c.version as number, limit },
    },
    interopVersion: c.version as number,
  };
}
