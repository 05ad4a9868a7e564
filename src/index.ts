/** ranged: the public API. Re-exports only. */

export { type ContentRange, formatContentRange, parseContentRange } from './core/content-range.js';
export { type BodyPart, type MultipartOptions, planMultipart } from './core/multipart.js';
export {
  type ConditionalHeaders,
  type CurrentValidators,
  evaluatePreconditions,
  ifRangeAllows,
  type PreconditionOutcome,
} from './core/preconditions.js';
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
