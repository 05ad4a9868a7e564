/** `ranged serve [DIR]`: the CLI shell over startServer(). */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { parseCorsPolicy } from '../core/cors.js';
import { isEveryInterface, lanUrls } from '../core/lan-urls.js';
import { isS3Url } from '../core/s3-location.js';
import { UsageError } from '../errors.js';
import { CLOSE_GRACE_MS, type ServerOptions, startServer } from '../server/server.js';
import { loadTlsFiles } from '../server/tls.js';
import { clusterLocks, LocalLocks, serveClusterLocks } from '../server/uploads/locks.js';
import { UPLOAD_HELP, uploadOptions } from './serve-uploads.js';

export { isEveryInterface } from '../core/lan-urls.js';

export const SERVE_HELP = `Usage: ranged serve [DIR | s3://BUCKET[/PREFIX]] [options]

Serve the files in DIR (default: the current folder), or the objects of an S3 bucket (Ceph RGW or
any S3-compatible store), over HTTP with full RFC 9110 byte-range support: single and multiple
ranges, If-Range, strong ETags, 304/412/416, HEAD.

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
      --tls-cert FILE --tls-key FILE
                      serve HTTPS with this PEM certificate (chain) and key: HTTP/2 and
                      HTTP/1.1 on the same port, chosen by ALPN; both files are needed
      --cors [ORIGIN] let web pages on other origins read the files and seek in media (CORS):
                      any origin, or only ORIGIN when an http(s):// origin follows
                      (a word that is not one stays the folder: --cors ./dir)
      --s3-endpoint URL
                      the S3 store for an s3:// source (http://127.0.0.1:7480), addressed
                      path-style; default AWS_ENDPOINT_URL, else AWS itself. Credentials and
                      region come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                      AWS_SESSION_TOKEN and AWS_REGION (default us-east-1). s3://BUCKET/site
                      serves the keys under site/ only. The store failing is answered 502, or
                      504 after 10 s without an answer, with Retry-After.
  -h, --help          show this help

${UPLOAD_HELP}
Folders without an index file get a listing page (JSON with Accept: application/json),
1,000 entries a page (?page=N). Nothing outside DIR is ever served or listed: what is opened is
checked after opening, so a symlink swapped in meanwhile cannot lead out.

Once listening, prints one line with http://HOST:PORT (https:// with --tls-cert) on stdout.
On 0.0.0.0 or ::, the next lines give the address of every network interface (other machines,
a phone, can open them), with a QR code of the first when stdout is a terminal.
SIGINT or SIGTERM stops accepting, lets in-flight responses finish (up to 10 s) and exits 0.
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

/**
 * Takes `--cors [ORIGIN]` out of the arguments (node:util parseArgs has no optional values):
 * `--cors` followed by a word starting with http:// or https:// takes it as the origin; any other
 * word after it stays where it is (a folder, an option). `--cors=VALUE` is taken as written.
 * Undefined cors when the option is absent; the last one wins.
 */
export function takeCorsOption(args: readonly string[]): { args: string[]; cors?: string } {
  const rest: string[] = [];
  let cors: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === '--cors') {
      const next = args[i + 1];
      if (next !== undefined && /^https?:\/\//i.test(next)) {
        cors = next;
        i++;
      } else {
        cors = '*';
      }
    } else if (arg.startsWith('--cors=')) {
      cors = arg.slice('--cors='.length);
    } else {
      rest.push(arg);
    }
  }
  return cors === undefined ? { args: rest } : { args: rest, cors };
}

export async function runServe(argv: string[]): Promise<number> {
  const { args, cors } = takeCorsOption(argv);
  if (cors !== undefined && parseCorsPolicy(cors) === undefined) {
    throw new UsageError(
      `Cannot use --cors "${cors}": expected an origin such as https://app.example (scheme, host, optional port)`,
    );
  }
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
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      's3-endpoint': { type: 'string' },
      uploads: { type: 'boolean' },
      'upload-token': { type: 'string' },
      'max-upload-size': { type: 'string' },
      'upload-expires': { type: 'string' },
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
  const s3Endpoint = values['s3-endpoint'];
  if (s3Endpoint !== undefined && !isS3Url(root)) {
    throw new UsageError('Cannot use --s3-endpoint: the source is not an s3:// bucket');
  }
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
  const tls = loadTlsFiles(values['tls-cert'], values['tls-key']);
  const uploads = uploadOptions(values, process.env);
  if (uploads !== undefined && cluster.isWorker) uploads.options.locks = clusterLocks();
  const options: ServerOptions = {
    root,
    ...(s3Endpoint === undefined ? {} : { s3Endpoint }),
    ...(tls === undefined ? {} : { tls }),
    ...(cors === undefined ? {} : { cors }),
    ...(uploads === undefined ? {} : { uploads: uploads.options }),
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
  if (uploads?.generated) {
    // Said once, even with --quiet: without it nobody can upload. Workers get it by environment.
    process.stderr.write(`ranged: upload token: ${uploads.options.token}\n`);
    process.env.RANGED_UPLOAD_TOKEN = uploads.options.token;
  }
  if (workers > 1) return runPrimary(workers, root, host, say);

  const running = await startServer(options);
  process.stdout.write(`ranged: serving ${root} at ${running.url}/\n`);
  if (isEveryInterface(host)) await printLanUrls(host, running.url);
  const signal = await nextSignal();
  say(`${signal}: finishing in-flight requests`);
  // A second signal cuts the wait short.
  void nextSignal().then(() => running.closeAllConnections());
  await running.close();
  return 0;
}

/**
 * After the primary line: one line per address other machines can open, and a QR code of the
 * first for a phone when stdout is a terminal (uqr, loaded only here).
 */
async function printLanUrls(host: string, url: string): Promise<void> {
  const { port, protocol } = new URL(url);
  const urls = lanUrls(networkInterfaces(), {
    host,
    port: Number(port),
    scheme: protocol === 'https:' ? 'https' : 'http',
  });
  for (const lan of urls) process.stdout.write(`ranged: on the network: ${lan}\n`);
  const first = urls[0];
  if (first === undefined || !process.stdout.isTTY) return;
  const { renderUnicodeCompact } = await import('uqr');
  process.stdout.write(`${renderUnicodeCompact(first, { border: 2 })}\n`);
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
  process.on('message', (message: PrimaryMessage | { ranged: 'lock' }) => {
    // The upload locks (uploads/locks.ts) talk on the same channel: only these two are for us.
    if (!('type' in message) || (message.type !== 'shutdown' && message.type !== 'shutdown-now')) {
      return;
    }
    if (message.type === 'shutdown-now') running?.closeAllConnections();
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
  host: string,
  say: (line: string) => void,
): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // workers accept on the shared socket themselves
  let stopping = false;
  let announced = false;
  const listening = new Set<Worker>();
  let restarts = 0;
  let failure: { message: string; usage: boolean } | undefined;
  const live = new Set<Worker>();
  const locks = new LocalLocks(); // the upload locks of every worker (uploads/locks.ts)
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
    serveClusterLocks(locks, worker);
    worker.on('error', () => {}); // a send to a worker that is exiting: its 'exit' follows
    worker.on('message', (message: WorkerMessage) => {
      // A shutdown sent while this worker was still loading can arrive before it listens for
      // messages, and is then lost: say it again now that the worker is surely listening.
      if (message.type === 'listening' && stopping) worker.send({ type: 'shutdown' }, () => {});
      if (message.type === 'listening') listening.add(worker);
      // Said once every worker listens: before that, losing the only listening worker would close
      // the shared socket (and with --port 0 its replacement would get another port).
      if (message.type === 'listening' && !announced && listening.size >= count) {
        announced = true;
        process.stdout.write(`ranged: serving ${root} at ${message.url}/ with ${count} workers\n`);
        if (isEveryInterface(host)) void printLanUrls(host, message.url);
      } else if (message.type === 'failed' && failure === undefined) {
        failure = { message: message.message, usage: message.usage };
        stopping = true;
        stopAll({ type: 'shutdown' });
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      listening.delete(worker);
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
    // Bounded: a worker that has not gone 5 s after the grace period is killed.
    setTimeout(() => {
      for (const worker of live) worker.process.kill('SIGKILL');
    }, CLOSE_GRACE_MS + 5_000).unref();
  });
  await exited;
  if (failure !== undefined) {
    process.stderr.write(`ranged: ${failure.message}\n`);
    return failure.usage ? 2 : 1;
  }
  return 0;
}
