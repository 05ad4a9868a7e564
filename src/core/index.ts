/**
 * `ranged-http/core`: the pure core, for anyone who wants the decisions without a socket. Every
 * function here takes facts and returns a value (ARCHITECTURE.md, house rule 1). Re-exports only.
 */
export * from './active-content.js';
export * from './backoff.js';
export * from './content-range.js';
export * from './cors.js';
export * from './format-bytes.js';
export * from './journal.js';
export * from './lan-urls.js';
export * from './multipart.js';
export * from './preconditions.js';
export * from './probe.js';
export * from './progress.js';
export * from './proxy.js';
export * from './range.js';
export * from './request-headers.js';
export * from './respond.js';
export * from './resume.js';
export * from './s3-location.js';
export * from './segments.js';
export * from './sort-steps.js';
export * from './upload/filename.js';
export * from './upload/ietf-plan.js';
export * from './upload/record.js';
export * from './upload/room.js';
export * from './upload/s3-state.js';
export * from './upload/tus-headers.js';
export * from './upload/tus-plan.js';
export * from './url-path.js';
export * from './validators.js';
