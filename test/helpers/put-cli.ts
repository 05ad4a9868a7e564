/** `ranged put` in a child process that a test can kill, with its state folder of its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './cli.js';

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
