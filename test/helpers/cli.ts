/** Runs the built ranged CLI as a child process. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the compiled CLI entry point. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `ranged ...args` to completion, bounded by `timeoutMs` (then SIGKILL). */
export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `ranged serve DIR --port 0 ...` and resolves once it prints its URL. */
export function startServeCli(
  dir: string,
  extra: string[] = [],
  options: { timeoutMs?: number; bin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    // `bin`: an installed `ranged` to run instead of this build's CLI.
    const [command, args] =
      options.bin === undefined ? [process.execPath, [CLI]] : [options.bin, []];
    const child = spawn(command, [...args, 'serve', dir, '--port', '0', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `Cannot start ranged serve: no URL within ${options.timeoutMs ?? 10_000} ms; stderr: ${err}`,
        ),
      );
    }, options.timeoutMs ?? 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /https?:\/\/[^\s/]+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[0], stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Cannot start ranged serve: exited with ${code}; stderr: ${err}`));
    });
  });
}

/**
 * Stops a `ranged serve` child for good: its workers (with --workers, they would outlive a killed
 * primary, keep writing into the served folder and hold the test's pipes open) and then itself,
 * with SIGKILL; resolves once it has exited (bounded).
 */
export async function killServeCli(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let workers: number[] = [];
  try {
    workers = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    workers = []; // none (pgrep exits 1)
  }
  for (const pid of workers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
}
