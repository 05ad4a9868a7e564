/** `ranged put` in a child process that a test can kill, with its state folder of its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, startServeCli } from './cli.js';
import { startTcpRelay } from './tcp-relay.js';
import { makeTree } from './tree.js';
import { waitFor } from './wait.js';

export const TOKEN = 'put-test-token-1234';

export interface PutChild {
  child: ChildProcess;
  stderr(): string;
  /** The exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `ranged put ...args` with XDG_STATE_HOME=`state` and RANGED_UPLOAD_TOKEN=TOKEN. */
export function spawnPut(args: string[], state: string, env: NodeJS.ProcessEnv = {}): PutChild {
  const child = spawn(process.execPath, [CLI, 'put', ...args], {
    env: { ...process.env, XDG_STATE_HOME: state, RANGED_UPLOAD_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { child, stderr: () => err, exited };
}

/** Runs `ranged put ...args` to its end; bounded by `timeoutMs` (then SIGKILL). */
export async function runPut(
  args: string[],
  state: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | string; stderr: string }> {
  const p = spawnPut(args, state, options.env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stderr: p.stderr() };
}

/**
 * Starts `ranged put ...args` (with a `--limit-rate` among them, so that the run lasts long enough
 * to act on) and resolves once `received()`, the bytes a relay in front of the server counted,
 * passes `atLeast`: the upload is underway.
 */
export async function putUnderway(
  args: string[],
  state: string,
  received: () => number,
  atLeast: number,
): Promise<PutChild> {
  const p = spawnPut(args, state);
  await waitFor(`the server to receive ${atLeast} bytes`, () => received() > atLeast, {
    timeoutMs: 30_000,
  });
  return p;
}

/**
 * `ranged serve SRV --uploads` behind a counting TCP relay (what the server received is
 * `relay.upstreamBytes`), with a state folder and a folder for the local files, in a fresh tree.
 */
export async function serveBehindRelay() {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  let server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
  const relay = await startTcpRelay(Number(new URL(server.url).port));
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    relay,
    serverLog: () => server.stderr(),
    /** kill -9 the server, then start a new one on the same folder behind the same relay. */
    async restartServer(): Promise<void> {
      server.child.kill('SIGKILL');
      await new Promise((resolve) => server.child.once('exit', resolve));
      relay.cut();
      server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
      relay.upstream = Number(new URL(server.url).port);
    },
    async cleanup() {
      server.child.kill('SIGKILL');
      await relay.close();
      await root.cleanup();
    },
  };
}
