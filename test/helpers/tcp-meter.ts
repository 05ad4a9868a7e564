/**
 * A TCP relay in front of a test server, on 127.0.0.1 port 0: it counts every byte clients send
 * through it (what the server received, headers and all), can slow the client-to-server direction
 * to a rate, and can cut every connection at once (a dropped network).
 */
import { once } from 'node:events';
import net from 'node:net';

export interface TcpMeter {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Bytes relayed from clients to the server so far. */
  readonly sent: number;
  /** Bytes per second from clients to the server, per connection; 0 for no limit. */
  rate: number;
  /** Destroys every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpMeter(target: string, rate = 0): Promise<TcpMeter> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let sent = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget);
    upstream.on('close', forget);
    client.on('error', forget);
    upstream.on('error', forget);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      upstream.write(chunk);
      if (meter.rate > 0) {
        client.pause();
        setTimeout(() => client.resume(), (1000 * chunk.length) / meter.rate).unref();
      }
    });
    client.on('end', () => upstream.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  const meter: TcpMeter = {
    url: `http://127.0.0.1:${address.port}`,
    get sent() {
      return sent;
    },
    rate,
    cut() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      meter.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return meter;
}
