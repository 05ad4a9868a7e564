/**
 * The types of the tus request decision (tus-plan.ts): what the shell knows about an upload, what
 * tunes the decision, and the plan it gets back.
 */

import type { MetadataPair } from './tus-headers.js';

/** The tus 1.0.0 extensions ranged may announce in Tus-Extension. */
export type TusExtension =
  | 'creation'
  | 'creation-with-upload'
  | 'creation-defer-length'
  | 'termination'
  | 'checksum'
  | 'expiration'
  | 'concatenation';

/** What the shell's store says about one upload resource. */
export interface TusUploadState {
  /**
   * `active`: taking bytes; `complete`: every byte stored (its resource still answers HEAD for a
   * while, issue 12); `expired` and `terminated`: gone (404/410, nothing stored any more).
   */
  status: 'active' | 'complete' | 'expired' | 'terminated';
  /** Bytes stored and durable; never more than are on disk. */
  offset: number;
  /** The declared Upload-Length; undefined while deferred (creation-defer-length). */
  length: number | undefined;
  /** The Upload-Metadata field as given at creation, echoed on HEAD. */
  metadata?: string | undefined;
  /** Set for an upload created with Upload-Concat. */
  concat?: { kind: 'partial' } | { kind: 'final'; urls: string[] } | undefined;
  /** When the upload expires, ms since the epoch (the shell's clock). */
  expires?: number | undefined;
}

/** The bearer token check the shell made (constant time) for this request. */
export type TokenCheck = 'ok' | 'missing' | 'wrong';

export interface TusPlanOptions {
  /** Whether the request's `Authorization: Bearer` token matched (issue 12). */
  token: TokenCheck;
  /** Tus-Max-Size: the largest upload in bytes. @default undefined (no limit) */
  maxSize?: number | undefined;
  /**
   * The extensions announced and honoured.
   * @default all of them
   */
  extensions?: readonly TusExtension[];
  /** The protocol versions spoken, preferred first (Tus-Version). @default ['1.0.0'] */
  versions?: readonly string[];
  /** The checksum algorithms the shell computes (Tus-Checksum-Algorithm). @default ['md5', 'sha1', 'sha256'] */
  checksumAlgorithms?: readonly string[];
  /** The longest Upload-Metadata field in characters. @default 4096 */
  maxMetadataLength?: number;
  /** Accept a `filename` whose segments start with a dot. @default false */
  dotfiles?: boolean;
  /** The URL of the upload a POST creates (the shell picks the id). Required for POST. */
  location?: string;
  /**
   * When the upload expires if this request counts as activity, ms since the epoch (the shell's
   * clock plus `--upload-expires`); sent as Upload-Expires with the expiration extension.
   * @default undefined (never)
   */
  expires?: number | undefined;
}

/** A body to store: bytes from `offset`, at most `limit` of them. */
export interface TusAppend {
  offset: number;
  /** The most bytes the body may carry; more make the shell answer 413 (finishTusBody()). */
  limit: number;
  /** Verify the body against this digest before the offset moves (checksum extension). */
  checksum?: { algorithm: string; digest: Uint8Array };
}

/** What the shell does; the plan never does it. */
export type TusAction =
  | { kind: 'none' }
  /** Create an upload (creation), then store `append` when the POST carries a body. */
  | {
      kind: 'create';
      length: number | undefined;
      /** The path below the served folder; undefined for a partial upload (no name). */
      filename: string[] | undefined;
      metadata: MetadataPair[];
      /** The raw Upload-Metadata, to echo on HEAD. */
      rawMetadata: string | undefined;
      partial: boolean;
      append?: TusAppend;
    }
  /** Create a final upload from the partial uploads at `urls`; the shell checks them (400). */
  | {
      kind: 'create-final';
      urls: string[];
      filename: string[];
      metadata: MetadataPair[];
      rawMetadata: string | undefined;
    }
  /** PATCH: store the body; `declareLength` is a deferred Upload-Length now known. */
  | { kind: 'append'; append: TusAppend; declareLength?: number }
  /** DELETE: remove the upload and its data (termination). */
  | { kind: 'terminate' };

export interface TusPlan {
  status: number;
  headers: Record<string, string>;
  action: TusAction;
  /** Why a request was refused, for the response body and the log. */
  reason?: string;
}
