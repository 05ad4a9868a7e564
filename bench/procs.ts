/**
 * Process and temp-dir bookkeeping for the benchmark: every child is registered and killed on the
 * way out (normal end, error, Ctrl-C), every temp dir removed, every wait bounded.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Registers a child so that cleanup() kills it. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers a temp dir so that cleanup() removes it. */
export function trackDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

/** Synchronous on purpose: it also runs from the process 'exit' handler. */
export function cleanup(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
/** Kills children and removes temp dirs on exit, on SIGINT/SIGTERM and on a crash. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** A port that was free a moment ago (for nginx, which cannot report the port it picked). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`Cannot reach 127.0.0.1:${port}: nothing listening after ${timeoutMs} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  pid: number | undefined;
}

/** Runs a command to completion, killing it after timeoutMs. Never rejects on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: {
    timeoutMs: number;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Called right after spawning, e.g. to sample the child's memory. */
    onSpawn?: (pid: number | undefined) => void;
  },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = track(
      spawn(command, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      }),
    );
    options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length < 1_000_000) stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 1_000_000) stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, pid: child.pid });
    });
  });
}

/** VmHWM of each process before its last resetPeakRss(), so that peakRss() still covers its life. */
const peaksBeforeReset = new Map<number, number>();

/** A /proc/PID/status field in bytes (`VmHWM`, `VmRSS`), or undefined. */
async function statusBytes(pid: number, field: string): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Peak resident set size of a live process in bytes over its whole life (VmHWM, and the peaks
 * before any resetPeakRss()), or undefined.
 */
export async function peakRss(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const now = await statusBytes(pid, 'VmHWM');
  const before = peaksBeforeReset.get(pid);
  return now === undefined ? before : Math.max(now, before ?? 0);
}

/** Peak resident set size in bytes since the last resetPeakRss() (VmHWM), or undefined. */
export async function recentPeakRss(pid: number | undefined): Promise<number | undefined> {
  return pid === undefined ? undefined : statusBytes(pid, 'VmHWM');
}

/** Resident set size now, in bytes (VmRSS), or undefined. */
export async function currentRss(pid: number | undefined): Promise<number | undefined> {
  return pid === undefined ? undefined : statusBytes(pid, 'VmRSS');
}

/**
 * Resets a live process's VmHWM to its current RSS (`echo 5 > /proc/PID/clear_refs`, Linux 4.0+),
 * so that recentPeakRss() covers only what runs next; peakRss() keeps the peak from before.
 * Returns false when the kernel does not allow it (then VmHWM stays the peak of the whole life).
 */
export async function resetPeakRss(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  const peak = await peakRss(pid);
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    if (peak !== undefined) peaksBeforeReset.set(pid, peak);
    return true;
  } catch {
    return false;
  }
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on Linux unless the kernel says). */
let ticksPerSecond: number | undefined;
function userHz(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond =
        Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU time (user + system, all threads) a live process has used, in seconds. Compared before and
 * after a load run, it gives CPU per request: a figure other load on a shared machine barely moves,
 * unlike req/s.
 */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / userHz();
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) of this process's children that have exited and been waited for
 * (cutime + cstime of /proc/self/stat), in seconds. Its growth over a run is the CPU of the
 * commands that ran to completion meanwhile (curl, wrk, a client in a child process); servers
 * that keep running are not in it.
 */
export async function reapedChildrenCpuSeconds(): Promise<number> {
  try {
    const stat = await readFile('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / userHz();
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time the whole machine has spent busy (all cores: user, nice, system, irq, softirq, steal of
 * /proc/stat), in seconds. Its growth over a run, less that of the processes measured, is what
 * other work on a shared machine took meanwhile.
 */
export async function machineBusySeconds(): Promise<number> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
      userHz()
    );
  } catch {
    return Number.NaN;
  }
}
