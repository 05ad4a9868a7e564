/**
 * The types of the draft-ietf-httpbis-resumable-upload decision (ietf-plan.ts): the request facts the
 * shell gives (its structured fields already parsed, server/uploads/ietf-fields.ts), what tunes the
 * decision, and the plan it gets back. Notes and sources: docs/ietf-draft-notes.md.
 */

import type { TokenCheck } from './tus-plan-types.js';

export type { TokenCheck } from './tus-plan-types.js';

/**
 * The draft's request fields, parsed as RFC 9651 Structured Fields by the shell. A field that is
 * absent is `undefined`; one that is present but not of its structured type is `'invalid'`.
 */
export interface IetfRequestFields {
  /** Upload-Draft-Interop-Version (Integer). */
  interopVersion?: number | 'invalid' | undefined;
  /** Upload-Complete (Boolean). */
  complete?: boolean | 'invalid' | undefined;
  /** Upload-Offset (non-negative Integer). */
  offset?: number | 'invalid' | undefined;
  /** Upload-Length (non-negative Integer). */
  length?: number | 'invalid' | undefined;
  /** The media type of Content-Type, lower case, without parameters. */
  contentType?: string | undefined;
  /**
   * The body's length: Content-Length, `'unknown'` for a chunked body, `'invalid'` for a bad
   * Content-Length. Undefined means no body (0 bytes).
   */
  contentLength?: number | 'unknown' | 'invalid' | undefined;
}

export interface IetfRequest {
  method: string;
  /**
   * `resource`: the request path names the file to write (creation, plain PUT, OPTIONS).
   * `upload`: the request path names an upload resource (HEAD/GET, PATCH, DELETE, OPTIONS).
   */
  target: 'resource' | 'upload';
  fields: IetfRequestFields;
  /**
   * For `resource`: the path exists, or another unfinished upload targets it (issue 12). The shell
   * knows this; the plan answers 409 before any byte is read.
   */
  targetTaken?: boolean;
}

/** What the shell's store says about one upload resource (the same store tus uses). */
export interface IetfUploadState {
  /**
   * `active`: taking bytes; `complete`: every byte stored, its resource still answers HEAD for a
   * while (issue 12); `expired` and `terminated`: gone.
   */
  status: 'active' | 'complete' | 'expired' | 'terminated';
  /** Bytes stored and durable. */
  offset: number;
  /** The representation's length, once known (Upload-Length, or a completing request). */
  length: number | undefined;
}

export interface IetfPlanOptions {
  /** Whether the request's `Authorization: Bearer` token matched (issue 12). */
  token: TokenCheck;
  /** The largest upload in bytes (`--max-upload-size`), announced as `max-size`. @default undefined (no limit) */
  maxSize?: number | undefined;
  /**
   * The interop versions spoken (Upload-Draft-Interop-Version). 9 is drafts -12 on; 6 is draft -05,
   * which tus-js-client 4.3.1 sends for `protocol: 'ietf-draft-05'`.
   * @default [9, 6]
   */
  interopVersions?: readonly number[];
  /** The URL of the upload resource a creation makes (the shell picks the id). Required for creation. */
  location?: string;
  /**
   * Seconds the upload resource has left (Upload-Limit `max-age`, `expires` at interop 6): the
   * shell's `--upload-expires` for a creation, the time left for an existing upload.
   * @default undefined (never expires)
   */
  maxAge?: number | undefined;
}

/** Upload-Limit members (draft-12 §Limits); the adapter serialises them as a Dictionary. */
export interface IetfLimits {
  'max-size'?: number;
  'min-size'?: number;
  'max-age'?: number;
  /** Interop 6's name for `max-age`. */
  expires?: number;
}

/** The draft's response fields, serialised as Structured Fields by the adapter. */
export interface IetfResponseFields {
  interopVersion?: number;
  offset?: number;
  complete?: boolean;
  length?: number;
  limit?: IetfLimits;
}

/** An RFC 9457 problem; the shell serialises it as application/problem+json. */
export interface IetfProblem {
  type: string;
  title: string;
  [member: string]: string | number;
}

/** A body to store: bytes from `offset`, at most `limit` of them. */
export interface IetfAppend {
  offset: number;
  /** The most bytes the body may carry; more make the shell report `too-large` to finishIetfBody(). */
  limit: number;
  /** What `limit` comes from: the representation's length (→ 400) or `maxSize` (→ 413). */
  limitedBy: 'length' | 'max-size';
}

/** What the shell does; the plan never does it. */
export type IetfAction =
  | { kind: 'none' }
  /**
   * Create an upload resource at `options.location` whose target is the request path, then store
   * the body; `complete` means the body ends the representation.
   */
  | { kind: 'create'; complete: boolean; length?: number; append: IetfAppend }
  /** PATCH: store the body; `length` is a length now known (record it). */
  | { kind: 'append'; append: IetfAppend; complete: boolean; length?: number }
  /** DELETE: deactivate the upload resource (a completed upload's file stays). */
  | { kind: 'terminate' }
  /** A PUT that is no draft request: store the whole body atomically at the path, at most `limit`. */
  | { kind: 'plain-put'; limit: number };

export interface IetfPlan {
  status: number;
  /** Plain header fields (Location, Cache-Control, Allow, …). */
  headers: Record<string, string>;
  /** The draft's structured fields, for the adapter to serialise next to `headers`. */
  fields: IetfResponseFields;
  action: IetfAction;
  /** The 104 (Upload Resumption Supported) to send before reading the body. */
  interim?: { status: 104; headers: Record<string, string>; fields: IetfResponseFields };
  problem?: IetfProblem;
  /** The interop version the request spoke, when it is supported. */
  interopVersion?: number;
  /** Why a request was refused, for the log. */
  reason?: string;
}

/** What happened to a body the plan let in (`create`, `append`, `plain-put`). */
export type IetfBodyOutcome =
  /** Every byte is stored and durable; `complete`: the upload is now complete (its file in place). */
  | { kind: 'stored'; offset: number; complete: boolean }
  /** The body ran past `append.limit`; `offset` is what was stored up to the limit. */
  | { kind: 'too-large'; offset: number }
  /** The upload completed but its target path was taken meanwhile; nothing was moved there. */
  | { kind: 'target-taken'; offset: number };

/** The response after the body. */
export interface IetfFinal {
  status: number;
  headers: Record<string, string>;
  fields: IetfResponseFields;
  problem?: IetfProblem;
}
