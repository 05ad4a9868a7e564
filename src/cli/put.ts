/**
 * `ranged put FILE URL`: a thin shell over `upload()` that parses arguments, draws progress with
 * the same code as `ranged get` (transfer-ui.ts), and prints one line per notice. `cli/main.ts`
 * turns the errors it throws into exit codes.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { upload } from '../client/upload.js';
import { AbortedError, HttpStatusError, UsageError } from '../errors.js';
import { parseCount, parseRate } from './get-args.js';
import { formatBytes } from './render.js';
import { attachControls, ProgressUi } from './transfer-ui.js';

export const PUT_HELP = `Usage: ranged put FILE URL [options]

Upload FILE, resuming after any interruption. URL is a tus creation endpoint (for
ranged serve --uploads: http://HOST:PORT/.uploads/) or the URL of the file to create on a
server speaking the IETF resumable-upload draft (http://HOST:PORT/music/take1.wav). Which one
is asked with OPTIONS (an answer with Tus-Version is tus). Run the same command again after
Ctrl-C, a crash or a lost connection: it asks the server how much it holds and continues from
there. A FILE changed since the last run (size, modification time or content) is uploaded
anew, after its old upload is terminated. The state lives in $XDG_STATE_HOME/ranged/ (else
~/.local/state/ranged/), never beside FILE. Requests start at 8 MiB and grow with the
measured rate (about a second's worth, up to 512 MiB); a 413 halves them.

Options:
      --token TOKEN        sent as Authorization: Bearer TOKEN (default: $RANGED_UPLOAD_TOKEN)
      --name PATH          tus: the file name on the server, a path below its folder
                           (default: FILE's base name)
      --protocol tus|ietf  skip the discovery: tus 1.0.0, or the IETF draft (interop 9)
  -c, --connections N      tus with the concatenation extension: N parallel partial uploads,
                           then one final, 1-64 (default: 1; otherwise one connection, said once)
      --chunk-checksum     tus: every PATCH carries Upload-Checksum (sha256 where the server
                           offers it, else sha1); a chunk the server discards (460) is sent again
      --retries N          retries after a network error, a stall, 408, 423, 429, 460 or 5xx;
                           the count starts again whenever the server's offset advances
                           (default: 10)
      --limit-rate RATE    overall rate cap in bytes per second; K, M, G suffixes (500K, 2M)
  -q, --quiet              no progress or notices (errors are still printed)
  -h, --help               show this help

Progress: a bar with speed and ETA when stderr is a terminal; none otherwise (notices and
errors are still printed). Keys (when stdin is a terminal): p pauses (requests stopped, the
upload saved), r or Enter resumes, Ctrl-C stops (the upload saved).

Exit codes: 0 the server confirmed the whole upload, 2 usage (FILE missing, bad URL or
option), 3 HTTP status (a wrong token: 401 or 403; too large: 413; the name exists: 409),
4 network (refused, DNS, retries used up), 5 a broken answer (an offset past the file),
9 file system (the state folder; FILE changed during the upload: run the same command again
to send the new content), 130 interrupted (the upload saved: run the same command again).
`;

/** Runs `ranged put` with the arguments after `put`; resolves to the process exit code. */
export async function runPut(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      token: { type: 'string' },
      name: { type: 'string' },
      protocol: { type: 'string' },
      connections: { type: 'string', short: 'c' },
      'chunk-checksum': { type: 'boolean' },
      retries: { type: 'string' },
      'limit-rate': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(PUT_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `Cannot run "ranged put": expected FILE and URL, got ${positionals.length} arguments (see ranged put --help)`,
    );
  }
  const [file, url] = positionals as [string, string];
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError('protocol');
  } catch {
    throw new UsageError(`Cannot upload to "${url}": not an http or https URL`);
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    await access(file, constants.R_OK); // an unreadable FILE: said here, not mid-upload
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : 'not a regular file';
    throw new UsageError(`Cannot upload "${file}": ${why}`);
  }
  const protocol = values.protocol;
  if (protocol !== undefined && protocol !== 'tus' && protocol !== 'ietf')
    throw new UsageError(`Cannot use --protocol "${protocol}": expected tus or ietf`);
  const connections = parseCount('--connections', values.connections, 1, 64);
  const retries = parseCount('--retries', values.retries, 0, 1000);
  const limitRate =
    values['limit-rate'] === undefined ? undefined : parseRate(values['limit-rate']);
  const token = values.token ?? process.env.RANGED_UPLOAD_TOKEN;
  const quiet = values.quiet === true;
  // Issue 13: a progress bar on a terminal, quiet off one (notices and errors are still said).
  const ui = new ProgressUi(quiet, { offTtyLines: false });
  const controller = new AbortController();

  const handle = upload(file, url, {
    signal: controller.signal,
    chunkChecksum: values['chunk-checksum'] === true,
    ...(token === undefined || token === '' ? {} : { token }),
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(protocol === undefined ? {} : { protocol }),
    ...(connections === undefined ? {} : { connections }),
    ...(retries === undefined ? {} : { retries }),
    ...(limitRate === undefined ? {} : { limitRate }),
    onProgress: (p) => ui.update(p),
    onNotice: (message) => ui.notice(message),
  });
  const detach = attachControls(handle, controller, ui);
  try {
    const result = await handle.done;
    ui.finish();
    if (!quiet) {
      const resumed =
        result.resumedBytes > 0 ? `, ${formatBytes(result.resumedBytes)} were already there` : '';
      process.stderr.write(
        `Uploaded "${file}" (${formatBytes(result.size)}${resumed}) to ${result.url}\n`,
      );
    }
    return 0;
  } catch (error) {
    ui.finish();
    if (error instanceof AbortedError) {
      throw new AbortedError(
        `Cannot finish uploading "${file}": interrupted; the upload is saved, run the same command again to resume`,
        { cause: error },
      );
    }
    if (
      error instanceof HttpStatusError &&
      error.status === 401 &&
      (token === undefined || token === '')
    )
      error.message += ': no token was given (--token TOKEN or RANGED_UPLOAD_TOKEN)';
    throw error;
  } finally {
    detach();
  }
}
