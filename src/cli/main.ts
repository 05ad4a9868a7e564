#!/usr/bin/env node
/**
 * The ranged command line: `ranged serve`, `ranged get` and `ranged put`. The only place that turns errors into
 * exit codes and text.
 */
import { readFileSync } from 'node:fs';
import {
  AbortedError,
  ChecksumMismatchError,
  FileSystemError,
  HttpStatusError,
  JournalError,
  NetworkError,
  ProtocolError,
  RangedError,
  RemoteChangedError,
  SizeLimitError,
  UsageError,
} from '../errors.js';
import { attachNegativeNumbers, parseArgsMessage } from './get-args.js';

const HELP = `Usage: ranged <command> [options]

Resumable HTTP transfers.

Commands:
  serve [DIR]   serve a folder with full byte-range support (ranged serve --help)
  get URL       download a file, resuming after any interruption (ranged get --help)
  put FILE URL  upload a file (tus or the IETF draft), resuming after any interruption
                (ranged put --help)

Options:
  -h, --help      show this help
  -v, --version   show the version

Exit codes: 0 success, 1 unexpected error, 2 usage, 3 HTTP status, 4 network, 5 protocol
(or a file over --max-size), 6 remote file changed, 7 checksum mismatch, 8 untrusted journal,
9 file system, 130 interrupted.
`;

/** Exit code for each error class; see the table in README.md. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return 2;
  if (error instanceof HttpStatusError) return 3;
  if (error instanceof NetworkError) return 4;
  if (error instanceof ProtocolError || error instanceof SizeLimitError) return 5;
  if (error instanceof RemoteChangedError) return 6;
  if (error instanceof ChecksumMismatchError) return 7;
  if (error instanceof JournalError) return 8;
  if (error instanceof FileSystemError) return 9;
  if (error instanceof AbortedError) return 130;
  return 1;
}

function version(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    case '-v':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'serve':
      // Each command loads only its own modules: `get` stays small in memory without the server.
      return withArgsHelp('serve', async () =>
        (await import('./serve.js')).runServe(attachNegativeNumbers(rest)),
      );
    case 'get':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write((await import('./get.js')).GET_HELP);
        return 0;
      }
      return withArgsHelp('get', async () =>
        (await import('./get.js')).runGet(attachNegativeNumbers(rest)),
      );
    case 'put':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write((await import('./put.js')).PUT_HELP);
        return 0;
      }
      return withArgsHelp('put', async () =>
        (await import('./put.js')).runPut(attachNegativeNumbers(rest)),
      );
    default:
      throw new UsageError(
        `Cannot run "${command}": unknown command (expected serve, get or put; see ranged --help)`,
      );
  }
}

/** Runs a subcommand; a parseArgs error becomes one UsageError line naming its help. */
async function withArgsHelp(command: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!isUsage(error)) throw error;
    throw new UsageError(parseArgsMessage((error as Error).message, command), { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof RangedError) return error.message;
  if (isUsage(error)) {
    // node:util parseArgs explains over several lines; its first line says what is wrong.
    const first = (error as Error).message.split('\n')[0]?.replace(/\.$/, '');
    return `Cannot parse arguments: ${first} (see ranged --help)`;
  }
  return `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for bad options. */
function isUsage(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ranged: ${describe(error)}\n`);
    if (process.env.RANGED_DEBUG === '1' && error instanceof Error)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = isUsage(error) ? 2 : exitCodeFor(error);
  },
);
