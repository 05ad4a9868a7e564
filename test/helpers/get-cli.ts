/** Runs the built CLI (`dist/src/cli/main.js`) as a child process for the get tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, type CliResult } from './cli.js';

export { CLI, type CliResult } from './cli.js';

/** Starts `node main.js ...args` in `cwd`; collect its output with `finished()`. */
export function spawnCli(args: string[], cwd: string, env = process.env): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

export async function runCli(args: string[], cwd: string): Promise<CliResult> {
  return finished(spawnCli(args, cwd));
}
