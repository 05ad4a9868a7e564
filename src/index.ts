/**
 * ranged: the public API. Re-exports only: the file server, the download client and the errors.
 * The pure core (range parsing, conditionals, multipart planning, journals, …) is the `ranged-http/core`
 * subpath (src/core/index.ts). README.md lists these names; test/unit/public-api.test.ts checks it.
 */

export {
  type DownloadHandle,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadState,
  download,
  partPaths,
} from './client/download.js';
export { parseChecksum } from './client/store/checksum.js';
export type {
  Checksum,
  ChecksumAlgorithm,
  UploadHandle,
  UploadOptions,
  UploadProgress,
  UploadResult,
  UploadState,
} from './client/types.js';
export { upload } from './client/upload.js';
export * from './errors.js';
export {
  createHandler,
  type Handler,
  type HandlerOptions,
  type NextFunction,
} from './server/handler.js';
export { type ServeFileOptions, serveFile } from './server/serve-file.js';
export { type RunningServer, type ServerOptions, startServer } from './server/server.js';
export {
  openS3Source,
  type S3Source,
  type S3SourceOptions,
} from './server/sources/s3.js';
export type { Source } from './server/sources/source.js';
export type { TlsOptions } from './server/tls.js';
