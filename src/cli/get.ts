/**
 * `ranged get URL`: a thin shell over `download()` that parses arguments, draws progress, maps the
 * p/r keys and Ctrl-C onto pause/resume/abort, and prints one line per notice. `cli/main.ts` turns
 * the errors it throws into exit codes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { download, partPaths } from '../client/download.js';
import { AbortedError, SizeLimitError, UsageError } from '../errors.js';
import {
  outputName,
  parseCount,
  parseHeaders,
  parseRate,
  parseSize,
  sizeLimitMessage,
} from './get-args.js';
import { formatBytes } from './render.js';
import { attachControls, ProgressUi } from './transfer-ui.js';

export const GET_HELP = `Usage: ranged get URL [options]

Download URL to a file, resuming after any interruption. The data is kept in OUT.part, the
state in OUT.part.json and OUT.part.live.json; OUT appears only when complete (and verified).
Run the same command again after Ctrl-C, a crash or a lost connection to continue where it
stopped; with another URL of the same file (a re-signed link: same size and ETag), too.

Options:
  -o, --output OUT         file to write (default: last part of the URL path, in the current
                           folder; a folder puts the file inside it)
  -c, --connections N      parallel connections, 1-64 (default: 4 for files of 4 MiB or more on
                           servers that support ranges, else 1)
      --checksum ALGO:HEX  verify before saving (sha256, sha1, md5, sha512)
      --retries N          retries per connection after a network error, a stall, 408, 429 or
                           5xx (default: 10)
      --limit-rate RATE    overall rate cap in bytes per second; K, M, G suffixes (500K, 2M)
      --max-size SIZE      refuse a file larger than SIZE (exit 5): a declared length over it
                           before anything is downloaded (nothing is written; an earlier
                           run's progress is kept), a body without a length as it passes SIZE
                           (never more is written, and its partial data is deleted). K, M, G, T
                           are powers of 1024: 64G, 64GB and 64GiB are the same (default: 64G)
      --allow-insecure-redirect
                           follow a redirect from https to http; refused by default (exit 3),
                           at every hop, because it drops TLS
  -H, --header 'NAME: VALUE'
                           send this header field on every request (repeatable); only to the
                           URL's origin: a redirect elsewhere carries none (Authorization and
                           Cookie included). Range, If-Range, Accept-Encoding, the other
                           conditionals, Host and the connection fields are refused (exit 2)
      --insecure           do not verify TLS certificates (said once on stderr)
      --ca FILE            trust the PEM certificates in FILE instead of the default roots
                           (as curl's --cacert)
  -q, --quiet              no progress or notices (errors are still printed)
  -f, --force              replace an existing OUT; discard an unreadable or foreign journal
      --sync               flush the data to disk at every save (~1/s) and before OUT appears,
                           so a power cut loses ~1 s and never leaves a partial OUT; slower
                           when the disk is slower than the network (default: flush every
                           10 s; a killed ranged loses nothing either way)
  -h, --help               show this help

Proxies: HTTPS_PROXY for https URLs (a CONNECT tunnel), HTTP_PROXY for http URLs, NO_PROXY
for hosts reached directly (comma list: host, .domain, host:port, IP, *); lower-case names win.
Credentials in the proxy URL (http://user:pass@proxy:3128) are sent as Proxy-Authorization.

Keys (when stdin is a terminal): p pauses (connections closed, progress saved), r or Enter
resumes, Ctrl-C stops (progress saved).

Exit codes: 0 done, 2 usage, 3 HTTP status (e.g. 404, a proxy's 407) or a redirect from
https to http, 4 network (refused, DNS, retries used up), 5 protocol (a server that lies
about ranges) or a file over --max-size, 6 remote file kept changing, 7 checksum mismatch
(nothing saved under OUT), 8 untrusted journal, 9 file system (OUT exists, disk full,
permission denied), 130 interrupted (progress saved).
`;

const CA_ERROR = 'Cannot use the CA certificates:';
const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a folder',
};

async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (error instanceof Error ? error.message : String(error));
    throw new UsageError(`Cannot read --ca "${path}": ${reason}`);
  }
}

async function resolveOutput(url: string, output: string | undefined): Promise<string> {
  if (output === undefined) return outputName(url);
  if (output.endsWith('/')) return join(output, outputName(url));
  try {
    if ((await stat(output)).isDirectory()) return join(output, outputName(url));
  } catch {
    // Not there yet: it is the file name.
  }
  return output;
}

/** Runs `ranged get` with the arguments after `get`; resolves to the process exit code. */
export async function runGet(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      connections: { type: 'string', short: 'c' },
      checksum: { type: 'string' },
      retries: { type: 'string' },
      'limit-rate': { type: 'string' },
      'max-size': { type: 'string' },
      'allow-insecure-redirect': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      force: { type: 'boolean', short: 'f' },
      sync: { type: 'boolean' },
      header: { type: 'string', short: 'H', multiple: true },
      insecure: { type: 'boolean' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(GET_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `Cannot run "ranged get": expected one URL, got ${positionals.length} (see ranged get --help)`,
    );
  }
  const url = positionals[0] as string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError('protocol');
  } catch {
    throw new UsageError(`Cannot download "${url}": not an http or https URL`);
  }
  const connections = parseCount('--connections', values.connections, 1, 64);
  const retries = parseCount('--retries', values.retries, 0, 1000);
  const limitRate =
    values['limit-rate'] === undefined ? undefined : parseRate(values['limit-rate']);
  const maxSize = values['max-size'] === undefined ? undefined : parseSize(values['max-size']);
  const headers = parseHeaders(values.header ?? []);
  const ca = values.ca === undefined ? undefined : await readCa(values.ca);
  const output = await resolveOutput(url, values.output);
  const quiet = values.quiet === true;
  if (values.insecure === true) {
    process.stderr.write('Warning: --insecure: TLS certificates are not verified\n');
  }
  const ui = new ProgressUi(quiet);
  const controller = new AbortController();
  let noRanges = false;

  const handle = download(url, {
    output,
    signal: controller.signal,
    force: values.force === true,
    sync: values.sync === true,
    allowInsecureRedirect: values['allow-insecure-redirect'] === true,
    headers,
    insecure: values.insecure === true,
    ...(ca === undefined ? {} : { ca }),
    ...(maxSize === undefined ? {} : { maxSize }),
    ...(connections === undefined ? {} : { connections }),
    ...(retries === undefined ? {} : { retries }),
    ...(limitRate === undefined ? {} : { limitRate }),
    ...(values.checksum === undefined ? {} : { checksum: values.checksum }),
    onProgress: (p) => ui.update(p),
    onNotice: (message) => {
      if (message.includes('does not support ranges')) noRanges = true;
      ui.notice(message);
    },
  });

  const detach = attachControls(handle, controller, ui);
  try {
    const result = await handle.done;
    ui.finish();
    if (!quiet) {
      const verified =
        result.checksum === undefined ? '' : `, ${result.checksum.algorithm} verified`;
      process.stderr.write(`Saved "${result.path}" (${formatBytes(result.size)}${verified})\n`);
    }
    return 0;
  } catch (error) {
    ui.finish();
    if (error instanceof AbortedError) {
      const again = noRanges
        ? ' (this server does not support ranges, so that fetches again from the start)'
        : '';
      throw new AbortedError(
        `Cannot finish "${output}": interrupted; progress is saved in "${partPaths(output).journal}", run the same command again to resume${again}`,
        { cause: error },
      );
    }
    if (error instanceof UsageError && ca !== undefined && error.message.startsWith(CA_ERROR)) {
      throw new UsageError(error.message.replace(CA_ERROR, `Cannot use --ca "${values.ca}":`));
    }
    if (error instanceof SizeLimitError) {
      throw new SizeLimitError(sizeLimitMessage(url, error), error, { cause: error });
    }
    throw error;
  } finally {
    detach();
  }
}
