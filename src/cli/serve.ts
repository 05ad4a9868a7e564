/** `ranged serve [DIR]`: the CLI shell over startServer(). */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { type ServerOptions, startServer } from '../server/server.js';

export const SERVE_HELP = `Usage: ranged serve [DIR] [options]

Serve the files in DIR (default: the current folder) over HTTP with full RFC 9110 byte-range
support: single and multiple ranges, If-Range, strong ETags, 304/412/416, HEAD.

Options:
  -p, --port N        port to listen on; 0 picks a free one (default 8080)
  -H, --host H        address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  -q, --quiet         no access log (one line per request on stderr by default)
      --no-listing    answer 404 for folders without an index file instead of listing them
      --index FILE    file served for a folder URL (default index.html)
      --dotfiles      serve and list names that start with a dot (hidden by default)
      --max-ranges N  most ranges honoured in one request; more get the whole file (default 100)
      --workers N     processes sharing the port (node:cluster); "auto" = one per core (default 1)
      --max-connections N
                      most connections open at once (per worker); more are closed at once
                      (default 1024)
      --send-timeout S
                      cut a response whose client has taken no byte for S seconds (default 30)
  -h, --help          show this help

Folders without an index file get a listing page (JSON with Accept: application/json),
1,000 entries a page (?page=N). Nothing outside DIR is ever served or listed: what is opened is
checked after opening, so a symlink swapped in meanwhile cannot lead out.

Once listening, prints one line with http://HOST:PORT on stdout. SIGINT or SIGTERM stops
accepting, lets in-flight responses finish (up to 10 s) and exits 0.
`;

/** Parses a whole number strictly (digits only) within [min, max]. */
export function parseWholeNumber(name: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(
      `Cannot use ${name} "${text}": expected a whole number from ${min} to ${max}`,
    );
  }
  return Number(text);
}

export async function runServe(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'H' },
      quiet: { type: 'boolean', short: 'q' },
      'no-listing': { type: 'boolean' },
      index: { type: 'string' },
      dotfiles: { type: 'boolean' },
      'max-ranges': { type: 'string' },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      'send-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `Cannot serve: expected one folder, got ${positionals.length} (${positionals.join(', ')})`,
    );
  }
  const root = positionals[0] ?? '.';
  const port = values.port === undefined ? 8080 : parseWholeNumber('--port', values.port, 0, 65535);
  const host = values.host ?? '127.0.0.1';
  if (values.index !== undefined && (values.index === '' || /[/\\\0]/.test(values.index))) {
    throw new UsageError(
      `Cannot use --index "${values.index}": expected a file name without a slash`,
    );
  }
  const workers =
    values.workers === undefined
      ? 1
      : values.workers === 'auto'
        ? availableParallelism()
        : parseWholeNumber('--workers', values.workers, 1, 64);
  const options: ServerOptions = {
    root,
    host,
    port,
    listing: !values['no-listing'],
    ...(values.index === undefined ? {} : { index: values.index }),
    ...(values.dotfiles ? { dotfiles: true } : {}),
    ...(values['max-ranges'] === undefined
      ? {}
      : { maxRanges: parseWholeNumber('--max-ranges', values['max-ranges'], 1, 10_000) }),
    ...(values['max-connections'] === undefined
      ? {}
      : {
          maxConnections: parseWholeNumber(
            '--max-connections',
            values['max-connections'],
            1,
            1_000_000,
          ),
        }),
    ...(values['send-timeout'] === undefined
      ? {}
      : {
          sendTimeout: 1000 * parseWholeNumber('--send-timeout', values['send-timeout'], 1, 86_400),
        }),
    ...(values.quiet ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
  };
  const say = (line: string) => {
    if (!values.quiet) process.stderr.write(`ranged: ${line}\n`);
  };
  if (cluster.isWorker) return runWorker(options);
  if (isEveryInterface(host)) {
    // Said even with --quiet: it is about who can read the folder, not about requests.
    process.stderr.write(
      `ranged: warning: listening on ${host}: ${root} is now reachable from other machines on the network\n`,
    );
  }
  if (workers > 1) return runPrimary(workers, root, say);

  const running = await startServer(options);
  process.stdout.write(`ranged: serving ${root} at ${running.url}/\n`);
  const signal = await nextSignal();
  say(`${signal}: finishing in-flight requests`);
  // A second signal cuts the wait short.
  void nextSignal().then(() => running.server.closeAllConnections());
  await running.close();
  return 0;
}

/** True for the wildcard addresses that listen on every interface. */
export function isEveryInterface(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '::0' || host === '0';
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Messages between the primary and its workers. */
type WorkerMessage =
  | { type: 'listening'; url: string }
  | { type: 'failed'; message: string; usage: boolean };
type PrimaryMessage = { type: 'shutdown' } | { type: 'shutdown-now' };

/**
 * A worker: serves, reports its URL or its failure to the primary, and stops when told (it ignores
 * signals, which the primary receives and relays, so one Ctrl-C is not taken as two).
 */
async function runWorker(options: ServerOptions): Promise<number> {
  const send = (message: WorkerMessage) => process.send?.(message);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // Listen to the primary from the start: a shutdown may come while the server is starting.
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  let shutdown = false;
  let wake = () => {};
  process.on('message', (message: PrimaryMessage) => {
    if (message.type === 'shutdown-now') running?.server.closeAllConnections();
    shutdown = true;
    wake();
  });
  process.once('disconnect', () => {
    shutdown = true; // the primary is gone
    wake();
  });
  try {
    running = await startServer(options);
  } catch (error) {
    const usage = error instanceof UsageError;
    send({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
      usage,
    });
    process.disconnect?.();
    return usage ? 2 : 1;
  }
  send({ type: 'listening', url: running.url });
  if (!shutdown) await new Promise<void>((resolve) => (wake = resolve));
  await running.close();
  process.disconnect?.();
  return 0;
}

/**
 * The primary: forks the workers (they share the listening socket), prints the URL once, replaces
 * a worker that dies, and on SIGINT/SIGTERM tells every worker to finish its in-flight responses.
 */
async function runPrimary(
  count: number,
  root: string,
  say: (line: string) => void,
): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // workers accept on the shared socket themselves
  let stopping = false;
  let announced = false;
  let restarts = 0;
  let failure: { message: string; usage: boolean } | undefined;
  const live = new Set<Worker>();
  let allExited: () => void = () => {};
  const exited = new Promise<void>((resolve) => {
    allExited = resolve;
  });
  const stopAll = (message: PrimaryMessage) => {
    for (const worker of live) if (worker.isConnected()) worker.send(message, () => {});
  };

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('error', () => {}); // a send to a worker that is exiting: its 'exit' follows
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'listening' && !announced) {
        announced = true;
        process.stdout.write(`ranged: serving ${root} at ${message.url}/ with ${count} workers\n`);
      } else if (message.type === 'failed' && failure === undefined) {
        failure = { message: message.message, usage: message.usage };
        stopping = true;
        stopAll({ type: 'shutdown' });
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (!stopping && restarts < 10) {
        restarts++;
        say(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        fork();
        return;
      }
      if (!stopping) {
        stopping = true;
        failure ??= { message: 'Cannot keep serving: workers keep exiting', usage: false };
        stopAll({ type: 'shutdown' });
      }
      if (live.size === 0) {
        allExited();
      }
    });
  };
  for (let i = 0; i < count; i++) fork();

  void nextSignal().then((signal) => {
    stopping = true;
    say(`${signal}: finishing in-flight requests`);
    stopAll({ type: 'shutdown' });
    void nextSignal().then(() => stopAll({ type: 'shutdown-now' }));
  });
  await exited;
  if (failure !== undefined) {
    process.stderr.write(`ranged: ${failure.message}\n`);
    return failure.usage ? 2 : 1;
  }
  return 0;
}
