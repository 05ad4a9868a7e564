/**
 * HTTP/1.x connections of a server (plain, or over TLS without `h2` in ALPN): responses in flight
 * per connection, the send timeout, and closing idle connections on shutdown.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type StallMark, stalledFor } from './stall.js';

/** What the send timeout knows of a connection. */
interface Sending extends StallMark {
  /** Responses in flight. */
  responses: number;
}

/** Bytes libuv still holds for the socket (its write queue); 0 where Node does not say. */
function writeQueueSize(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle;
  return typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
}

export class H1Connections {
  /**
   * Responses in flight per connection. Node's own closeIdleConnections() (which server.close()
   * calls) destroys a connection as soon as res.end() was called, even while the end of a big body
   * is still queued in user space; a connection here is idle only once its responses are flushed.
   */
  readonly #inFlight = new Map<Socket, Sending>();
  #stopping = false;

  /** Registers a connection as soon as it is open (so an idle one is closed on shutdown). */
  add(socket: Socket): Sending {
    let sending = this.#inFlight.get(socket);
    if (sending === undefined) {
      sending = { responses: 0, mark: '', since: 0 };
      this.#inFlight.set(socket, sending);
      socket.once('close', () => this.#inFlight.delete(socket));
    }
    return sending;
  }

  /** Counts a response in flight on its connection until it closes. */
  track(socket: Socket, res: ServerResponse): void {
    const sending = this.add(socket);
    sending.responses++;
    res.once('close', () => {
      const left = --sending.responses;
      if (this.#stopping && left === 0) socket.destroy();
    });
  }

  /** From now on a connection closes when its last response is flushed; idle ones close now. */
  stop(): void {
    this.#stopping = true;
    this.closeIdle();
  }

  closeIdle(): void {
    for (const [socket, sending] of this.#inFlight) if (sending.responses === 0) socket.destroy();
  }

  closeAll(): void {
    for (const socket of this.#inFlight.keys()) socket.destroy();
  }

  /**
   * The send timeout: a connection with bytes waiting for its client and no byte taken by the
   * client's side (the kernel) for `sendTimeout` is cut. Progress is seen in libuv's write queue,
   * which shrinks as the kernel takes bytes, so a slow reader is never mistaken for a dead one.
   */
  sweep(at: number, sendTimeout: number): void {
    for (const [socket, sending] of this.#inFlight) {
      const waiting = sending.responses === 0 ? 0 : socket.writableLength + writeQueueSize(socket);
      if (stalledFor(sending, waiting, socket.bytesWritten, at, sendTimeout)) socket.destroy();
    }
  }
}
