/**
 * A TCP relay on 127.0.0.1 port 0 in front of a server: it counts the bytes clients send through
 * it (what the server received), its upstream port can be switched (a server restarted on another
 * port stays reachable at one address), and `cut()` drops every connection.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface TcpRelay {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Bytes clients sent upstream through the relay. */
  readonly upstreamBytes: number;
  /** The port new connections go to. */
  upstream: number;
  /** Drops every connection open now. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(upstream: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let sent = 0;
  const server = net.createServer((client) => {
    const target = net.connect(relay.upstream, '127.0.0.1');
    sockets.add(client);
    sockets.add(target);
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
    });
    client.pipe(target);
    target.pipe(client);
    const end = (): void => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('error', end);
    target.on('error', end);
    client.on('close', end);
    target.on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const relay: TcpRelay = {
    url: `http://127.0.0.1:${port}`,
    get upstreamBytes() {
      return sent;
    },
    upstream,
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async close() {
      relay.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}
