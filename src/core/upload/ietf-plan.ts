/**
 * The draft-ietf-httpbis-resumable-upload request decision (interop versions 9 and 6) as a function
 * of its inputs (house rule 1): the shell parses the structured fields
 * (server/uploads/ietf-fields.ts), looks up the upload and checks the token; this decides the
 * status, the headers, the 104 and what to store; after the body, finishIetfBody() gives the final
 * response. Sources and decisions: docs/ietf-draft-notes.md.
 */

import { planAppend } from './ietf-append.js';
import {
  gone,
  IETF_INTEROP_VERSIONS,
  type IetfContext,
  inconsistentLength,
  isModern,
  limitsOf,
  NONE,
  PARTIAL_UPLOAD,
  refuse,
} from './ietf-context.js';
import { planTargetWrite } from './ietf-create.js';
import type {
  IetfBodyOutcome,
  IetfFinal,
  IetfPlan,
  IetfPlanOptions,
  IetfRequest,
  IetfUploadState,
} from './ietf-plan-types.js';

export { IETF_INTEROP_VERSIONS, PARTIAL_UPLOAD } from './ietf-context.js';
export type * from './ietf-plan-types.js';

const RESOURCE_METHODS = 'OPTIONS, PUT, POST';
const UPLOAD_METHODS = 'OPTIONS, HEAD, GET, PATCH, DELETE';

/**
 * Decides one request. For `request.target === 'upload'`, `state` is the upload the URL names, or
 * undefined when there is none; for `'resource'` it is ignored.
 */
export function planIetfRequest(
  request: IetfRequest,
  state: IetfUploadState | undefined,
  options: IetfPlanOptions,
): IetfPlan {
  const versions = options.interopVersions ?? IETF_INTEROP_VERSIONS;
  const asked = request.fields.interopVersion;
  const c: IetfContext = {
    request,
    options,
    versions,
    version: typeof asked === 'number' && versions.includes(asked) ? asked : undefined,
  };
  const m = request.method.toUpperCase();
  // Issue 12: OPTIONS needs no token.
  if (m === 'OPTIONS') return planOptions(c);
  // Issue 12: every upload request needs `Authorization: Bearer TOKEN`; nothing is stored without.
  if (options.token !== 'ok') {
    return refuse(c, 401, `${options.token} token`, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  if (request.target === 'resource') {
    if (m === 'PUT' || m === 'POST') return planTargetWrite(c, m);
    return refuse(c, 405, `method ${m}`, { headers: { Allow: RESOURCE_METHODS } });
  }
  // Draft-12 §Draft Version Identification: "Client implementations of draft versions of the
  // protocol MUST send a header field `Upload-Draft-Interop-Version`". An upload resource only
  // exists for draft clients; one that speaks another version would misread the answers.
  if (c.version === undefined) {
    return refuse(c, 400, `Upload-Draft-Interop-Version is not one of ${versions.join(', ')}`);
  }
  switch (m) {
    case 'HEAD':
    case 'GET':
      return planHead(c, state);
    case 'PATCH':
      return planAppend(c, state);
    case 'DELETE':
      return planDelete(c, state);
    default:
      return refuse(c, 405, `method ${m}`, { headers: { Allow: UPLOAD_METHODS } });
  }
}

/**
 * Draft-12 §Limits: "When responding to an `OPTIONS` request without the `Upload-Complete` header
 * field, if the resource that is the target of the request supports the creation of a resumable
 * upload resource, the server MUST include the `Upload-Limit` header field with the corresponding
 * limits in the response." The draft-11 text: "the server MUST include the `Accept-Patch` header
 * field in the response [...] MUST include the full `application/partial-upload` media type".
 */
function planOptions(c: IetfContext): IetfPlan {
  const allow = c.request.target === 'resource' ? RESOURCE_METHODS : UPLOAD_METHODS;
  return {
    status: 204,
    headers: { Allow: allow, 'Accept-Patch': PARTIAL_UPLOAD },
    fields: { limit: limitsOf(c) },
    action: NONE,
    ...(c.version !== undefined ? { interopVersion: c.version } : {}),
  };
}

/** Draft-12 §Offset Retrieval, Server Behavior; draft-05 §Offset Retrieval. */
function planHead(c: IetfContext, state: IetfUploadState | undefined): IetfPlan {
  // Draft-12 §Offset Retrieval: "SHOULD include the `Cache-Control` header field with the value
  // `no-store` to prevent HTTP caching".
  const headers = { 'Cache-Control': 'no-store' };
  const f = c.request.fields;
  // Draft-05 §Offset Retrieval: "The request MUST NOT include an `Upload-Offset`,
  // `Upload-Complete`, or `Upload-Length` header field. The server MUST reject requests with either
  // of these fields by responding with a `400 (Bad Request)` status code."
  if (c.version === 6 && (f.offset ?? f.complete ?? f.length) !== undefined) {
    return refuse(c, 400, 'upload fields in an offset retrieval', { headers });
  }
  const missing = gone(c, state);
  if (missing !== undefined) return { ...missing, headers: { ...missing.headers, ...headers } };
  const s = state as IetfUploadState;
  const complete = s.status === 'complete';
  // Draft-12 §Length: "The representation's length will, however, be known at the latest when the
  // client completes the upload". tus-js-client 4.3.1 takes `offset === length` as done.
  const length = s.length ?? (complete ? s.offset : undefined);
  // Draft-12 §Offset Retrieval, Server Behavior: a successful response "MUST include the offset in
  // the `Upload-Offset` header field, MUST include the `Upload-Complete` header field [...] MUST
  // include the representation's length in the `Upload-Length` header field, unless the client has
  // not supplied the representation's length [...] MUST indicate the limits in the `Upload-Limit`
  // header field". Draft-05: "MUST respond with a `204 (No Content)` or `200 (OK)` status code."
  return {
    status: 204,
    headers,
    fields: {
      offset: s.offset,
      complete,
      ...(length !== undefined ? { length } : {}),
      limit: limitsOf(c),
    },
    action: NONE,
    interopVersion: c.version as number,
  };
}

/** Draft-12 §Upload Cancellation, Server Behavior; draft-05 §Upload Cancellation. */
function planDelete(c: IetfContext, state: IetfUploadState | undefined): IetfPlan {
  const f = c.request.fields;
  // Draft-05 §Upload Cancellation: "The server MUST reject the request with a `Upload-Offset` or
  // `Upload-Complete` header field with a `400 (Bad Request)` status code."
  if (c.version === 6 && (f.offset ?? f.complete) !== undefined) {
    return refuse(c, 400, 'upload fields in a cancellation');
  }
  const missing = gone(c, state);
  if (missing !== undefined) return missing;
  // Draft-12 §Upload Cancellation: "Upon receiving a `DELETE` request, the server SHOULD deactivate
  // the upload resource." Draft-05: "If the server successfully deactivates the upload resource, it
  // MUST respond with a `204 (No Content)` status code." tus-js-client 4.3.1 expects exactly 204.
  return {
    status: 204,
    headers: {},
    fields: {},
    action: { kind: 'terminate' },
    interopVersion: c.version as number,
  };
}

/**
 * The response after the body of a creation, an append or a plain PUT, from the plan
 * planIetfRequest() gave and what the shell stored.
 */
export function finishIetfBody(plan: IetfPlan, outcome: IetfBodyOutcome): IetfFinal {
  const action = plan.action;
  if (action.kind === 'plain-put') {
    if (outcome.kind === 'stored') return { status: 201, headers: plan.headers, fields: {} };
    if (outcome.kind === 'too-large') return { status: 413, headers: plan.headers, fields: {} };
    return { status: 409, headers: plan.headers, fields: {} };
  }
  if (action.kind !== 'create' && action.kind !== 'append') {
    throw new TypeError(`finishIetfBody(): a ${action.kind} plan has no body`);
  }
  const version = plan.interopVersion;
  const modern = version !== undefined && version >= 9;
  const c: IetfContext = { request: NO_REQUEST, options: NO_OPTIONS, version, versions: [] };
  // Draft-05 §Upload Creation and §Upload Append: "The server MUST send the `Upload-Offset` header
  // field in the response if it considers the upload active". tus-js-client 4.3.1 reads it on
  // every creation with data and every PATCH response, at both interop versions.
  const fields = { ...plan.fields, offset: outcome.offset };
  switch (outcome.kind) {
    case 'stored': {
      // Draft-12 §Upload Append, Server Behavior: with `?1` "the response MUST include the
      // `Upload-Complete` header field with a true value"; with `?0`, "a `2xx (Successful)`
      // response with the `Upload-Complete` header field set to false". Draft-05: an incomplete
      // append is answered with "a `201 (Created)` status code and the `Upload-Complete` field
      // value set to false".
      const status =
        action.kind === 'create' || outcome.complete ? 201 : modern ? 204 : plan.status;
      return { status, headers: plan.headers, fields: { ...fields, complete: outcome.complete } };
    }
    case 'too-large': {
      if (action.append.limitedBy === 'max-size') {
        return {
          status: 413,
          headers: plan.headers,
          fields: { ...fields, limit: fields.limit ?? {} },
        };
      }
      const refused = inconsistentLength(c, 'body past the representation length');
      return {
        status: refused.status,
        headers: plan.headers,
        fields: { ...fields, ...refused.fields },
        ...(refused.problem !== undefined ? { problem: refused.problem } : {}),
      };
    }
    case 'target-taken':
      // Issue 12: 409 when the target is taken. Draft-12 §Completeness: `?1` marks a response of
      // the target resource, which resuming would not change.
      return {
        status: 409,
        headers: plan.headers,
        fields: { ...fields, ...(isModern(c) ? { complete: true } : {}) },
      };
  }
}

/** The context finishIetfBody() refuses in: only the interop version matters after the body. */
const NO_REQUEST: IetfRequest = { method: 'PATCH', target: 'upload', fields: {} };
const NO_OPTIONS: IetfPlanOptions = { token: 'ok' };
