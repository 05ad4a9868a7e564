/**
 * The upload append decision (PATCH to an upload resource) of draft-ietf-httpbis-resumable-upload.
 */

import {
  appendLimit,
  completedUpload,
  gone,
  type IetfContext,
  inconsistentLength,
  isModern,
  limitsOf,
  mismatchingOffset,
  PARTIAL_UPLOAD,
  refuse,
  tooLarge,
} from './ietf-context.js';
import type { IetfPlan, IetfUploadState } from './ietf-plan-types.js';

/** Draft-12 §Upload Append, Server Behavior; draft-05 §Upload Append. */
export function planAppend(c: IetfContext, state: IetfUploadState | undefined): IetfPlan {
  const missing = gone(c, state);
  if (missing !== undefined) return missing;
  const s = state as IetfUploadState;
  const f = c.request.fields;
  // Draft-12 §Upload Append, Client Behavior: "sending a `PATCH` request with the
  // `application/partial-upload` media type". RFC 5789 §2.2, Unsupported patch document: "Can be
  // returned with 415 (Unsupported Media Type)".
  if (f.contentType !== PARTIAL_UPLOAD) {
    return refuse(c, 415, `Content-Type is not ${PARTIAL_UPLOAD}`, {
      headers: { 'Accept-Patch': PARTIAL_UPLOAD },
    });
  }
  // Draft-12 §Upload Append, Client Behavior: "The client MUST indicate the offset of the request
  // content inside the representation data by including the `Upload-Offset` header field."
  if (f.offset === undefined) return refuse(c, 400, 'no Upload-Offset');
  if (f.offset === 'invalid') return refuse(c, 400, 'bad Upload-Offset');
  if (f.complete === 'invalid') return refuse(c, 400, 'bad Upload-Complete');
  if (f.length === 'invalid') return refuse(c, 400, 'bad Upload-Length');
  // Draft-12 §Upload Append, Client Behavior: "The request MUST include the `Upload-Complete`
  // header field." Draft-05 only asks for `?0` when the content does not end the representation,
  // so an interop 6 request without it appends without completing.
  if (f.complete === undefined && isModern(c)) return refuse(c, 400, 'no Upload-Complete');
  const complete = f.complete === true;
  const body = f.contentLength ?? 0;
  if (body === 'invalid') return refuse(c, 400, 'bad Content-Length');

  if (s.status === 'complete') return appendToCompleted(c, s, f.offset, complete, body);

  // Draft-12 §Upload Append, Server Behavior: "If the `Upload-Offset` request header field value
  // does not match the current offset, the server MUST reject the request with a `409 (Conflict)`
  // status code and the `Upload-Complete` header field set to false. The response MUST include the
  // correct offset in the `Upload-Offset` header field. The response can use the problem type [...]
  // mismatching-upload-offset". Draft-05 likewise, without `Upload-Complete`.
  if (f.offset !== s.offset) {
    return refuse(c, 409, `Upload-Offset ${f.offset} is not ${s.offset}`, {
      fields: { offset: s.offset, ...(isModern(c) ? { complete: false } : {}) },
      problem: mismatchingOffset(s.offset, f.offset),
    });
  }

  // Draft-12 §Length: "The representation's length, if known, MUST stay consistent across
  // subsequent requests."
  let length = s.length;
  if (typeof f.length === 'number') {
    if (length !== undefined && f.length !== length) {
      return inconsistentLength(c, `Upload-Length ${f.length} is not ${length}`);
    }
    if (f.length < s.offset)
      return inconsistentLength(c, `Upload-Length ${f.length} below the offset`);
    length = f.length;
  }
  // Draft-12 §Length, indicator 1: with `Upload-Complete: ?1`, the length "is then the sum of the
  // current offset and the request content's length".
  if (complete && typeof body === 'number') {
    const end = s.offset + body;
    if (length !== undefined && end !== length) {
      return inconsistentLength(c, `${end} bytes complete the upload, its length is ${length}`);
    }
    length = end;
  }
  // Draft-12 §Upload Append, Server Behavior: "If the representation's length is known, the
  // server MUST prevent the offset from exceeding the representation's length by rejecting the
  // request". Draft-05: "reject the request with a `400 (Bad Request)` status code".
  if (length !== undefined && typeof body === 'number' && s.offset + body > length) {
    return inconsistentLength(c, `${body} bytes past the length ${length}`);
  }
  const max = c.options.maxSize;
  if (max !== undefined && (length ?? s.offset + (typeof body === 'number' ? body : 0)) > max) {
    return tooLarge(c, 'upload above the maximum size');
  }
  // Draft-12 §Upload Append, Server Behavior: "If the `Upload-Complete` request header field is
  // set to false [...] the server acknowledges the appended data by sending a `2xx (Successful)`
  // response with the `Upload-Complete` header field set to false." The status, Upload-Offset and
  // Upload-Complete are set after the body (finishIetfBody()).
  return {
    status: complete ? 201 : isModern(c) ? 204 : 201,
    headers: {},
    fields: { limit: limitsOf(c) },
    action: {
      kind: 'append',
      append: { offset: s.offset, ...appendLimit(c, length, s.offset) },
      complete,
      ...(length !== undefined && s.length === undefined ? { length } : {}),
    },
    interopVersion: c.version as number,
  };
}

/** An append to an upload that is already complete. */
function appendToCompleted(
  c: IetfContext,
  s: IetfUploadState,
  offset: number,
  complete: boolean,
  body: number | 'unknown',
): IetfPlan {
  // Draft-05 §Upload Append: "If the upload is already complete, the server MUST NOT modify the
  // upload resource and MUST respond with a `400 (Bad Request)` status code. The server MAY use the
  // problem type [...] completed-upload".
  if (!isModern(c))
    return refuse(c, 400, 'upload already complete', { problem: completedUpload() });
  // Draft-12 §Upload Append, Server Behavior: "the client might still perform an upload append
  // after an offset retrieval due to the response being lost during transmission. The server can
  // choose to replay the final response to the client if the request to append to the completed
  // upload is valid." Valid: no bytes, at the final offset, completing.
  if (complete && body === 0 && offset === s.offset) {
    return {
      status: 200,
      headers: {},
      fields: { offset: s.offset, complete: true },
      action: { kind: 'none' },
      interopVersion: c.version as number,
      reason: 'replayed the completion',
    };
  }
  // Draft-12 §Completeness: "`Upload-Complete` can be false in response to an invalid operation
  // performed on a completed upload." The draft-11 text: "If the client attempted to append a
  // non-zero length document, the server MUST treat this as an inconsistent length failure."
  return inconsistentLength(c, 'upload already complete');
}
