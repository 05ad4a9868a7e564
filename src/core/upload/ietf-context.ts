/**
 * What the draft-ietf-httpbis-resumable-upload planners (ietf-plan.ts, ietf-create.ts,
 * ietf-append.ts) share: the request's context, refusals, Upload-Limit, the problem types and the
 * 404/410 of an upload that is not there. Draft quotes name the text they come from; see
 * docs/ietf-draft-notes.md ("draft-12" is the interop 9 text, "draft-05" the interop 6 text).
 */

import type {
  IetfAction,
  IetfLimits,
  IetfPlan,
  IetfPlanOptions,
  IetfProblem,
  IetfRequest,
  IetfResponseFields,
  IetfUploadState,
} from './ietf-plan-types.js';

/** Draft-12 §Media Type `application/partial-upload`: the content of an upload append. */
export const PARTIAL_UPLOAD = 'application/partial-upload';

/** The interop versions spoken by default: 9 (drafts -12 on) and 6 (draft -05, tus-js-client 4.3.1). */
export const IETF_INTEROP_VERSIONS: readonly number[] = [9, 6];

export const NONE: IetfAction = { kind: 'none' };

export interface IetfContext {
  request: IetfRequest;
  options: IetfPlanOptions;
  /** The request's interop version when it is one of `versions`, else undefined. */
  version: number | undefined;
  versions: readonly number[];
}

export interface Refusal {
  headers?: Record<string, string>;
  fields?: IetfResponseFields;
  problem?: IetfProblem;
}

export function refuse(
  c: IetfContext,
  status: number,
  reason: string,
  extra: Refusal = {},
): IetfPlan {
  return {
    status,
    headers: extra.headers ?? {},
    fields: extra.fields ?? {},
    action: NONE,
    ...(extra.problem !== undefined ? { problem: extra.problem } : {}),
    ...(c.version !== undefined ? { interopVersion: c.version } : {}),
    reason,
  };
}

/** Whether the request speaks interop 9 or later (the draft-12 rules), not 6 (the draft-05 rules). */
export function isModern(c: IetfContext): boolean {
  return c.version !== undefined && c.version >= 9;
}

/**
 * Draft-12 §Limits: "`max-size`: Specifies a maximum size for the representation data, counted in
 * bytes." "`max-age`: Specifies the remaining lifetime of the upload resource in seconds". Draft-05
 * §Upload-Limit names the lifetime `expires`. Both: "If the server does not apply any limits, it
 * MUST use `min-size=0` instead of an empty header value."
 */
export function limitsOf(c: IetfContext): IetfLimits {
  const limits: IetfLimits = {};
  const { maxSize, maxAge } = c.options;
  if (maxSize !== undefined) limits['max-size'] = maxSize;
  if (maxAge !== undefined) {
    limits[c.version === 6 ? 'expires' : 'max-age'] = Math.max(0, Math.ceil(maxAge));
  }
  if (Object.keys(limits).length === 0) limits['min-size'] = 0;
  return limits;
}

/**
 * Draft-12 §Limits: "When a request is rejected because limits were violated, the response SHOULD
 * include the `Upload-Limit` header field carrying all limits of the corresponding upload".
 * RFC 9110 §15.5.14: 413 (Content Too Large).
 */
export function tooLarge(c: IetfContext, reason: string): IetfPlan {
  return refuse(c, 413, reason, { fields: { limit: limitsOf(c) } });
}

const PROBLEM_TYPES = 'https://iana.org/assignments/http-problem-types#';

/**
 * Draft-12 §Mismatching Offset: "Two problem type extension members are defined: the
 * `expected-offset` and `provided-offset` members. A response using this problem type SHOULD
 * populate both members".
 */
export function mismatchingOffset(expected: number, provided: number): IetfProblem {
  return {
    type: `${PROBLEM_TYPES}mismatching-upload-offset`,
    title: 'offset from request does not match offset of resource',
    'expected-offset': expected,
    'provided-offset': provided,
  };
}

/**
 * Draft-12 §Length: "If indicators (1) and (2) are both present in the same request, their
 * indicated lengths MUST match. The representation's length, if known, MUST stay consistent across
 * subsequent requests. A server can use the problem type [...] inconsistent-upload-length". The
 * type is defined from draft-06 on, so an interop 6 request gets a bare 400; draft-12 §Inconsistent
 * Length shows the response with `Upload-Complete: ?0`.
 */
export function inconsistentLength(c: IetfContext, reason: string): IetfPlan {
  if (!isModern(c)) return refuse(c, 400, reason);
  return refuse(c, 400, reason, {
    fields: { complete: false },
    problem: {
      type: `${PROBLEM_TYPES}inconsistent-upload-length`,
      title: 'inconsistent length values for upload',
    },
  });
}

/** Draft-05 §Completed Upload: the problem of an append to a completed upload (interop 6). */
export function completedUpload(): IetfProblem {
  return { type: `${PROBLEM_TYPES}completed-upload`, title: 'upload is already completed' };
}

/** The 404 or 410 of an upload resource that is not there. */
export function gone(c: IetfContext, state: IetfUploadState | undefined): IetfPlan | undefined {
  if (state === undefined) return refuse(c, 404, 'unknown upload');
  if (state.status !== 'expired' && state.status !== 'terminated') return undefined;
  // Draft-05 §Offset Retrieval, §Upload Append, §Upload Cancellation: "If the server does not
  // consider the upload resource to be active, it MUST respond with a `404 (Not Found)` status
  // code." Draft-12 leaves it open; ranged answers 410 there, as its tus planner does (issue 12).
  return refuse(c, c.version === 6 ? 404 : 410, `upload ${state.status}`);
}

/** The bytes a body may carry: to the known length, else to `maxSize`. */
export function appendLimit(
  c: IetfContext,
  length: number | undefined,
  offset: number,
): { limit: number; limitedBy: 'length' | 'max-size' } {
  const end = length ?? c.options.maxSize ?? Number.MAX_SAFE_INTEGER;
  return {
    limit: Math.max(0, end - offset),
    limitedBy: length !== undefined ? 'length' : 'max-size',
  };
}
