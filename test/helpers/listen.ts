/** Starts a ranged server on 127.0.0.1, port 0, closed after the test. */
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/server.js';

export async function listen(
  t: { after(fn: () => unknown): void },
  options: ServerOptions,
): Promise<RunningServer> {
  const running = await startServer({ host: '127.0.0.1', port: 0, closeGrace: 1_000, ...options });
  t.after(() => running.close());
  return running;
}
