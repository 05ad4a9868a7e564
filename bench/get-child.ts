/**
 * One download through the library API in its own process, for the journal section:
 * `node get-child.js URL OUTPUT OPTIONS_JSON`. OPTIONS_JSON is merged into `download()`'s options
 * (with `output`). Prints `{"ms":N,"size":N,"fetchedBytes":N}`, where `ms` is the time of the
 * `download()` call alone (no process start-up), then exits 0; on an error it prints it and exits 1.
 */
import { type DownloadOptions, download } from '../src/index.js';

const [url, output, json] = process.argv.slice(2);
if (url === undefined || output === undefined) {
  process.stderr.write('usage: get-child.js URL OUTPUT [OPTIONS_JSON]\n');
  process.exit(2);
}
const options = { ...(JSON.parse(json ?? '{}') as Partial<DownloadOptions>), output };
try {
  const started = performance.now();
  const result = await download(url, options).done;
  const ms = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ ms, size: result.size, fetchedBytes: result.fetchedBytes })}\n`,
  );
} catch (error) {
  process.stderr.write(`get-child.js: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
