/** `ranged serve [DIR]`: the CLI shell over startServer(). */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { startServer } from '../server/server.js';

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
  -h, --help          show this help

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
  const running = await startServer({
    root,
    host,
    port,
    listing: !values['no-listing'],
    ...(values.index === undefined ? {} : { index: values.index }),
    ...(values.dotfiles ? { dotfiles: true } : {}),
    ...(values['max-ranges'] === undefined
      ? {}
      : { maxRanges: parseWholeNumber('--max-ranges', values['max-ranges'], 1, 10_000) }),
    ...(values.quiet ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
  });
  process.stdout.write(`ranged: serving ${root} at ${running.url}/\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  if (!values.quiet) process.stderr.write(`ranged: ${signal}: finishing in-flight requests\n`);
  // A second signal cuts the wait short.
  process.once('SIGINT', () => running.server.closeAllConnections());
  process.once('SIGTERM', () => running.server.closeAllConnections());
  await running.close();
  return 0;
}
