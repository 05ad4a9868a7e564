/**
 * The public types of `openHttp1()` (http1.ts re-exports them), in a module of their own so that
 * http1.ts and the state machine in http1-exchange.ts both use them without importing each other.
 */

/** The body of a response, read into a reused buffer. */
export interface ResponseBody {
  /**
   * Delivers the body to `sink` in order, one chunk at a time. A chunk is valid only until
   * `sink` returns (or until the promise it returns settles): its memory is then reused. One more
   * chunk is read meanwhile, then the socket waits.
   * Resolves at the end of the body, or when `sink` answers false (the connection is then
   * closed); rejects with a NetworkError on a failure, a stall or a malformed body, and with the
   * signal's reason on an abort. Call at most once.
   */
  read(sink: BodySink, options: { stallTimeout: number }): Promise<void>;
  /** Closes the connection (idempotent); a pending `read()` rejects with `error`, if given. */
  destroy(error?: Error): void;
  /** Whether every byte of the body arrived. */
  readonly complete: boolean;
}

/** Receives body bytes; false stops reading. */
export type BodySink = (chunk: Buffer) => boolean | Promise<boolean>;

export interface Http1Response {
  status: number;
  statusMessage: string;
  /** Lowercased names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  body: ResponseBody;
}

export interface Http1Options {
  /** Request header fields (names as given). */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** No response head within this many ms fails the request. */
  timeout: number;
  /** Size of each of the two reused read buffers: fewer, larger writes (-c 1 of 1 GiB from
   * loopback: 4,096 writes at 256 KiB, 1,026 at 1 MiB, ~15% less wall time). @default 1 MiB */
  bufferSize?: number;
  /** Send the request to this http:// proxy, in absolute-form (RFC 9112 §3.2.2), instead of
   * connecting to the URL's host. Its credentials go in `headers` (Proxy-Authorization). */
  proxy?: { host: string; port: number } | undefined;
}
