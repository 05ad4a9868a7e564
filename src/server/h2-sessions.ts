/**
 * HTTP/2 sessions of a server and their streams: the HTTP/2 counterparts of what H1Connections
 * does for HTTP/1.x connections.
 *
 * - Send timeout, per stream: a stream with bytes waiting for its client and none taken for
 *   `sendTimeout` is reset (RST_STREAM CANCEL); its session and the other streams go on.
 * - Idle timeout, per session: a session with no stream open for `idleTimeout` is closed (GOAWAY),
 *   even if the client keeps it busy with PINGs.
 * - Streams per session are bounded by SETTINGS_MAX_CONCURRENT_STREAMS (server.ts), sessions by
 *   the server's maxConnections (one TCP connection each), and streams across sessions by
 *   maxStreamsTotal (server.ts answers one past it 503 without tracking it).
 * - Graceful close: GOAWAY to every session; each closes once its open streams are done.
 */
import { constants, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { type StallMark, stalledFor } from './stall.js';

interface Session {
  /** Streams open now. */
  streams: number;
  /** When the last stream closed (or the session opened). */
  idleSince: number;
}

interface Stream extends StallMark {
  res: Http2ServerResponse;
  /** Body bytes handed to the stream so far. */
  handed: number;
  /** Reset by the send timeout. */
  cancelled: boolean;
}

/** How long a session told to close (GOAWAY) may take before it is destroyed, in ms. */
const GOAWAY_GRACE_MS = 1_000;

export class H2Sessions {
  readonly #sessions = new Map<ServerHttp2Session, Session>();
  readonly #streams = new Set<Stream>();
  readonly #now: () => number;
  #stopping = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Responses tracked now, across every session. */
  get open(): number {
    return this.#streams.size;
  }

  add(session: ServerHttp2Session): void {
    if (this.#stopping) {
      session.close();
      return;
    }
    const state: Session = { streams: 0, idleSince: this.#now() };
    this.#sessions.set(session, state);
    session.on('stream', (stream) => {
      state.streams++;
      stream.once('close', () => {
        state.streams--;
        state.idleSince = this.#now();
      });
    });
    session.once('close', () => this.#sessions.delete(session));
    // A session error (a protocol violation, a reset connection) ends only that session.
    session.on('error', () => {});
  }

  /**
   * Tracks one response for the send timeout; returns a function giving the body bytes handed to
   * the stream so far (for the access log).
   */
  track(res: Http2ServerResponse): () => number {
    const stream: Stream = { res, handed: 0, mark: '', since: 0, cancelled: false };
    // Http2Stream keeps no byte count; count what goes in (end() calls write() for its data).
    const write = res.write;
    res.write = function (this: Http2ServerResponse, chunk: string | Uint8Array, ...rest: never[]) {
      stream.handed += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Http2ServerResponse['write'];
    this.#streams.add(stream);
    res.once('close', () => this.#streams.delete(stream));
    // A client's RST_STREAM closes the stream for good (RFC 9113 §6.4), but with NO_ERROR Node
    // keeps it until the response's writes finish, which a blocked response never does.
    // (Not after our own reset, whose RST_STREAM a destroy would drop before it is sent.)
    res.stream.once('aborted', () => {
      if (!stream.cancelled) res.stream.destroy();
    });
    return () => stream.handed;
  }

  sweep(at: number, sendTimeout: number, idleTimeout: number): void {
    for (const stream of this.#streams) {
      const waiting = stream.res.stream.writableLength;
      if (stalledFor(stream, waiting, stream.handed, at, sendTimeout)) {
        stream.cancelled = true;
        stream.res.stream.close(constants.NGHTTP2_CANCEL);
      }
    }
    for (const [session, state] of this.#sessions) {
      if (state.streams === 0 && at - state.idleSince >= idleTimeout) this.#goaway(session);
    }
  }

  /** GOAWAY to every session: no new stream is taken, open ones finish. */
  stop(): void {
    this.#stopping = true;
    for (const session of this.#sessions.keys()) this.#goaway(session);
  }

  closeAll(): void {
    for (const session of this.#sessions.keys()) session.destroy();
  }

  #goaway(session: ServerHttp2Session): void {
    if (session.closed || session.destroyed) return;
    session.close();
    // A client that reads nothing would keep a closing session forever.
    setTimeout(() => {
      const state = this.#sessions.get(session);
      if (state !== undefined && state.streams === 0) session.destroy();
    }, GOAWAY_GRACE_MS).unref();
  }
}
