/**
 * Pieces of the put section (bench/put.ts): the four upload clients, each run as a process of
 * its own whose peak RSS is polled from /proc, and the probe that tells whether this build's CLI
 * has `ranged put` at all.
 */
import { fileURLToPath } from 'node:url';
import { currentRss, type RunResult, recentPeakRss, run } from './procs.js';

export type PutClient = 'ranged' | 'tus-js-client' | 'curl' | 'node-put';

/** The row label of each client. */
export const CLIENT_LABEL: Record<PutClient, string> = {
  ranged: 'ranged put',
  'tus-js-client': 'tus-js-client',
  curl: 'curl -T',
  'node-put': 'node:http PUT',
};

const tusChild = fileURLToPath(new URL('./tus-js-child.js', import.meta.url));
const nodePutChild = fileURLToPath(new URL('./node-put-child.js', import.meta.url));
const RUN_TIMEOUT_MS = 600_000;

export interface PutRun {
  /** The timed part, in ms: see each client below. */
  ms: number;
  /** Spawn to exit of the client process. */
  wallMs: number;
  /** The client process's peak RSS in bytes (NaN when /proc could not be read). */
  rss: number;
  /** curl's own clock (`%{time_total}`), in ms. */
  ownMs?: number;
}

export interface PutTarget {
  /** `http://127.0.0.1:PORT` of `ranged serve DIR --uploads`. */
  origin: string;
  token: string;
  /** The CLI of the build under test (dist/src/cli/main.js). */
  main: string;
  /** XDG_STATE_HOME for `ranged put`, inside the section's temp folder. */
  stateHome: string;
  chunk: number;
}

/**
 * Runs a command while polling its VmHWM (peak so far, so a spike between two polls still
 * counts) and VmRSS every `everyMs`; the peak is the largest value read before it exited.
 */
async function polled(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv | undefined,
  everyMs = 20,
): Promise<RunResult & { rss: number }> {
  let pid: number | undefined;
  let peak = 0;
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      if (pid !== undefined) {
        const [hwm, now] = await Promise.all([recentPeakRss(pid), currentRss(pid)]);
        peak = Math.max(peak, hwm ?? 0, now ?? 0);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs);
      });
    }
  })();
  try {
    const result = await run(command, args, {
      timeoutMs: RUN_TIMEOUT_MS,
      ...(env === undefined ? {} : { env }),
      onSpawn: (p) => {
        pid = p;
      },
    });
    return { ...result, rss: peak === 0 ? Number.NaN : peak };
  } finally {
    running = false;
    wake?.();
    await loop;
  }
}

function failure(what: string, result: RunResult): Error {
  const why = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(0, 3).join(' | ');
  return new Error(
    `Cannot upload with ${what}: exit ${result.signal ?? result.code}${why === '' ? '' : `: ${why.slice(0, 300)}`}`,
  );
}

/**
 * One upload of `file` as `name` (a path under the server's folder) by `client`:
 * - ranged: `node main.js put FILE ORIGIN/.uploads/ --token T --name NAME --quiet`, timed from
 *   spawn to exit (Node's start-up included), exit 0 required;
 * - tus-js-client: tus-js-child.js, timed inside the child from `start()` to `onSuccess`;
 * - curl: `curl -T FILE` to ORIGIN/NAME with the bearer token, timed from spawn to exit like
 *   ranged put (both are commands a user times; curl's own `%{time_total}`, which leaves out its
 *   start-up, is kept in `ownMs`), 201 and every byte sent required;
 * - node-put: node-put-child.js, the same plain PUT from a bare node:http client (Node's floor),
 *   timed from spawn to exit, exit 0 (a 201) required.
 */
export async function putWith(
  client: PutClient,
  target: PutTarget,
  file: string,
  size: number,
  name: string,
): Promise<PutRun> {
  switch (client) {
    case 'ranged': {
      const args = [target.main, 'put', file, `${target.origin}/.uploads/`];
      args.push('--token', target.token, '--name', name, '--quiet');
      const env = { ...process.env, XDG_STATE_HOME: target.stateHome };
      const result = await polled(process.execPath, args, env);
      if (result.code !== 0) throw failure('ranged put', result);
      return { ms: result.ms, wallMs: result.ms, rss: result.rss };
    }
    case 'tus-js-client': {
      const endpoint = `${target.origin}/.uploads/`;
      const args = [tusChild, file, endpoint, name, target.token, String(target.chunk)];
      const result = await polled(process.execPath, args, undefined);
      if (result.code !== 0) throw failure('tus-js-client', result);
      const { ms } = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { ms?: number };
      if (typeof ms !== 'number') throw failure('tus-js-client (no timing printed)', result);
      return { ms, wallMs: result.ms, rss: result.rss };
    }
    case 'curl': {
      const url = `${target.origin}/${name.split('/').map(encodeURIComponent).join('/')}`;
      const args = ['-sS', '-T', file, '-H', `Authorization: Bearer ${target.token}`];
      args.push('-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', url);
      const result = await polled('curl', args, undefined);
      const [status, bytes, seconds] = result.stdout.trim().split(' ').map(Number);
      if (result.code !== 0 || status !== 201 || bytes !== size || seconds === undefined) {
        throw failure(`curl -T (status ${status}, ${bytes} of ${size} bytes sent)`, result);
      }
      return { ms: result.ms, wallMs: result.ms, rss: result.rss, ownMs: seconds * 1000 };
    }
    case 'node-put': {
      const url = `${target.origin}/${name.split('/').map(encodeURIComponent).join('/')}`;
      const result = await polled(
        process.execPath,
        [nodePutChild, file, url, target.token],
        undefined,
      );
      if (result.code !== 0) throw failure('node:http PUT', result);
      return { ms: result.ms, wallMs: result.ms, rss: result.rss };
    }
  }
}

/**
 * Whether this build's CLI has `put`: undefined when `put --help` exits 0, else why not (today's
 * CLI exits 2: `Cannot run "put": unknown command`).
 */
export async function rangedPutMissing(main: string): Promise<string | undefined> {
  const result = await run(process.execPath, [main, 'put', '--help'], { timeoutMs: 30_000 });
  if (result.code === 0) return undefined;
  const line = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
  return `\`ranged put --help\` exits ${result.signal ?? result.code}: ${line.replace(/^ranged: /, '')}`;
}
