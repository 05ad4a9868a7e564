/**
 * A child process that runs `download(url, options)` from the library, for tests that must kill
 * a download with SIGKILL while using options the CLI does not expose (e.g. `syncInterval`).
 * Usage: node download-child.js URL OPTIONS_JSON. Exit 0 when saved, 1 with the error on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { download } from '../../src/client/download.js';

export const DOWNLOAD_CHILD = fileURLToPath(import.meta.url);

/** Starts this file as a child process downloading `url` with `options` (JSON-serialisable). */
export function spawnDownload(url: string, options: Record<string, unknown>): ChildProcess {
  return spawn(process.execPath, [DOWNLOAD_CHILD, url, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

if (process.argv[1] === DOWNLOAD_CHILD) {
  const [url, json] = process.argv.slice(2);
  download(url ?? '', JSON.parse(json ?? '{}')).done.then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
