/** ranged: the public API. Re-exports only. */

export { type Checksum, type ChecksumAlgorithm, parseChecksum } from './client/checksum.js';
export {
  type DownloadHandle,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadState,
  download,
  partPaths,
} from './client/download.js';
export {
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
} from './core/backoff.js';
export { type ContentRange, formatContentRange, parseContentRange } from './core/content-range.js';
export {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type CorsDecision,
  type CorsPolicy,
  type CorsRequest,
  parseCorsPolicy,
  planCors,
} from './core/cors.js';
export {
  type DecodedJournal,
  decodeJournal,
  encodeJournal,
  JOURNAL_VERSION,
  type Journal,
} from './core/journal.js';
export { type BodyPart, type MultipartOptions, planMultipart } from './core/multipart.js';
export {
  type ConditionalHeaders,
  type CurrentValidators,
  evaluatePreconditions,
  ifRangeAllows,
  type PreconditionOutcome,
} from './core/preconditions.js';
export { addSample, eta, rate, type Sample } from './core/progress.js';
export {
  type ByteRange,
  coalesceRanges,
  type ParseRangeOptions,
  parseRange,
  type RangeRequest,
} from './core/range.js';
export {
  type FileFacts,
  type PlanOptions,
  planResponse,
  type RequestFacts,
  type ResponsePlan,
} from './core/respond.js';
export {
  canResume,
  checkResponse,
  ifRangeValue,
  type RemoteVersion,
  type Verdict,
} from './core/resume.js';
export { planSegments, type Span, splitLargest } from './core/segments.js';
export { resolveUrlPath, type UrlPath } from './core/url-path.js';
export {
  fileETag,
  formatHttpDate,
  parseETagList,
  parseHttpDate,
  strongMatch,
  weakMatch,
} from './core/validators.js';
export * from './errors.js';
export {
  createHandler,
  type Handler,
  type HandlerOptions,
  type NextFunction,
} from './server/handler.js';
export { type ServeFileOptions, serveFile } from './server/serve-file.js';
export { type RunningServer, type ServerOptions, startServer } from './server/server.js';
export type { TlsOptions } from './server/tls.js';
