/**
 * The error hierarchy. Every error ranged throws on purpose is a `RangedError` subclass with a
 * stable `code`; `cli/main.ts` alone maps them to exit codes. Programmer errors use built-ins
 * (`RangeError`, `TypeError`).
 *
 * Messages: sentence case, no final period, the action first, then a colon and the state:
 * `Cannot resume "big.iso": remote ETag is "b7-2", journal has "b7-1"`.
 */

export abstract class RangedError extends Error {
  abstract readonly code: string;
}

/** Bad arguments, a missing folder, a port in use. CLI exit 2. */
export class UsageError extends RangedError {
  readonly code = 'ERR_USAGE';
  override readonly name = 'UsageError';
}

/** A response status the client cannot handle. CLI exit 3. */
export class HttpStatusError extends RangedError {
  readonly code = 'ERR_HTTP_STATUS';
  override readonly name = 'HttpStatusError';
  readonly status: number;
  readonly url: string;
  constructor(message: string, details: { status: number; url: string }, options?: ErrorOptions) {
    super(message, options);
    this.status = details.status;
    this.url = details.url;
  }
}

/** A network failure that survived every retry (refused, reset, DNS, timeout). CLI exit 4. */
export class NetworkError extends RangedError {
  readonly code = 'ERR_NETWORK';
  override readonly name = 'NetworkError';
}

/** The server broke the protocol: a wrong Content-Range, a short body, a bad multipart. CLI exit 5. */
export class ProtocolError extends RangedError {
  readonly code = 'ERR_PROTOCOL';
  override readonly name = 'ProtocolError';
}

/**
 * The file is larger than the download's `maxSize` (`--max-size`): its declared length (refused
 * before any byte is written), or a body without a length that grew past it (stopped, and its
 * data deleted). Not retried. CLI exit 5, with the protocol errors: the answer cannot be used.
 */
export class SizeLimitError extends RangedError {
  readonly code = 'ERR_SIZE_LIMIT';
  override readonly name = 'SizeLimitError';
  /** The limit, in bytes. */
  readonly limit: number;
  /** The length the server declared; undefined for a body without one. */
  readonly size: number | undefined;
  constructor(
    message: string,
    details: { limit: number; size: number | undefined },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.limit = details.limit;
    this.size = details.size;
  }
}

/** The remote file changed while downloading, more often than the engine restarts. CLI exit 6. */
export class RemoteChangedError extends RangedError {
  readonly code = 'ERR_REMOTE_CHANGED';
  override readonly name = 'RemoteChangedError';
}

/** `--checksum` did not match. CLI exit 7. */
export class ChecksumMismatchError extends RangedError {
  readonly code = 'ERR_CHECKSUM';
  override readonly name = 'ChecksumMismatchError';
  readonly expected: string;
  readonly actual: string;
  constructor(message: string, details: { expected: string; actual: string }) {
    super(message);
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** A journal that cannot be trusted: another URL, a newer format, garbage. CLI exit 8. */
export class JournalError extends RangedError {
  readonly code = 'ERR_JOURNAL';
  override readonly name = 'JournalError';
}

/** A local file-system failure: disk full, permission denied, OUT exists. CLI exit 9. */
export class FileSystemError extends RangedError {
  readonly code = 'ERR_FS';
  override readonly name = 'FileSystemError';
}

/** The transfer was stopped on purpose (AbortSignal, Ctrl-C); the journal is saved. CLI exit 130. */
export class AbortedError extends RangedError {
  readonly code = 'ERR_ABORTED';
  override readonly name = 'AbortedError';
}
