import { readdir, readlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import {
  BIG_PATH,
  CUT_SEND_TIMEOUT_S,
  fetchOnce,
  MiB,
  type Probe,
  probeWhile,
  type Run,
  SMALL_PATH,
  STALLED,
  type Target,
} from './hostile-kit.js';
import { currentRss, run, sleep } from './procs.js';

export async function socketCount(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return Number.NaN;
  }
  const links = await Promise.all(
    fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
  );
  return links.filter((link) => link.startsWith('socket:')).length;
}

/** Connections that asked for the big file and never read. */
export class StalledSet {
  readonly sockets: Socket[] = [];
  readonly errors: string[] = [];
  connected = 0;

  /** Opens `count` connections, `batch` at a time, each sending one GET and never reading. */
  async open(port: number, count: number, batch = 50): Promise<void> {
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      await Promise.all(Array.from({ length: n }, () => this.#openOne(port)));
    }
  }

  #openOne(port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.pause(); // never read: libuv does not even start reading
      this.sockets.push(socket);
      const timer = setTimeout(resolve, 5_000);
      socket.once('connect', () => {
        this.connected++;
        socket.write(
          `GET ${BIG_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ranged-bench-stalled\r\n\r\n`,
        );
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (this.errors.length < 20) this.errors.push(error.code ?? error.message);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Reads the first bytes of each response (after the measurement) to check what the server
   * answered, then destroys the socket. Returns how many started with a 200 status line.
   */
  async statusLines(timeoutMs: number): Promise<{ ok: number; other: string[] }> {
    let ok = 0;
    const other = new Set<string>();
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) return resolve();
            const finish = (what?: string) => {
              if (what !== undefined) other.add(what);
              clearTimeout(timer);
              socket.destroy();
              resolve();
            };
            const timer = setTimeout(() => finish('no bytes'), timeoutMs);
            socket.once('data', (chunk: Buffer) => {
              const line = chunk.subarray(0, 200).toString('latin1').split('\r\n')[0] ?? '';
              if (/^HTTP\/1\.1 200 /.test(line)) {
                ok++;
                finish();
              } else finish(line);
            });
            socket.once('close', () => finish('closed'));
            socket.resume();
          }),
      ),
    );
    return { ok, other: [...other] };
  }

  destroy(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Established TCP connections `ss` selects, and the bytes in their Recv-Q and Send-Q. */
export async function kernelConnections(
  filter: string,
): Promise<{ count: number; recv: number; send: number }> {
  const res = await run('ss', ['-Htn', 'state', 'established', filter], { timeoutMs: 5_000 });
  let count = 0;
  let recv = 0;
  let send = 0;
  for (const line of res.stdout.split('\n')) {
    const [r, s] = line.trim().split(/\s+/);
    if (r === undefined || s === undefined || !/^\d+$/.test(r)) continue;
    count++;
    recv += Number(r);
    send += Number(s);
  }
  return { count, recv, send };
}

export interface StalledResult {
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  /** From the start of the plateau wait until it ended. */
  waitedMs: number;
  stable: boolean;
  /** Connections the server took (its socket count over the one before). */
  accepted: number;
  /** When it had taken them all, from the first connection (performance.now() in `probes`). */
  acceptedAt: number;
  answered: number;
  otherStatus: string[];
  connectErrors: string[];
  serverSendQ: number;
  /** `at` relative to the first connection. */
  probes: Probe[];
}

/**
 * Opens STALLED non-reading connections to the big file with small-file requests running the
 * whole time, waits until the server has taken them all (its socket count, bounded 15 s) and its
 * RSS stops growing (flat within 1 MiB for 2 s, at most `maxMs`), then checks that each got a 200,
 * and closes them.
 */
export async function stalledRun(run: Run, target: Target, maxMs: number): Promise<StalledResult> {
  // A few requests first, so the before figure is a warmed-up server's.
  for (let i = 0; i < 20; i++) await fetchOnce(target.origin, SMALL_PATH, { timeoutMs: 5_000 });
  await sleep(300);
  const rssBefore = (await currentRss(target.pid)) ?? Number.NaN;
  const base = await socketCount(target.pid);
  const set = new StalledSet();
  run.stalled.push(set);
  let busy = true;
  const t0 = performance.now();
  const probes = probeWhile(target.origin, () => busy, { minCount: 50, maxMs: maxMs + 30_000 });
  try {
    await set.open(target.port, STALLED);
    // The probe's own connection may be counted too: at most one.
    let accepted = (await socketCount(target.pid)) - base;
    const acceptDeadline = performance.now() + 15_000;
    while (accepted < STALLED && performance.now() < acceptDeadline) {
      await sleep(50);
      accepted = (await socketCount(target.pid)) - base;
    }
    const acceptedAt = performance.now() - t0;
    accepted = Math.min(accepted, STALLED);
    const started = performance.now();
    const samples: Array<{ at: number; rss: number }> = [];
    let stable = false;
    let rssPeak = 0;
    while (performance.now() - started < maxMs) {
      await sleep(200);
      const rss = (await currentRss(target.pid)) ?? Number.NaN;
      const at = performance.now() - started;
      samples.push({ at, rss });
      rssPeak = Math.max(rssPeak, rss);
      const window = samples.filter((s) => s.at >= at - 2_000).map((s) => s.rss);
      if (at >= 2_000 && Math.max(...window) - Math.min(...window) <= MiB) {
        stable = true;
        break;
      }
    }
    const waitedMs = performance.now() - started;
    const rssAfter = samples.at(-1)?.rss ?? Number.NaN;
    const server = await kernelConnections(`sport = :${target.port}`);
    busy = false;
    const p = (await probes).map((probe) => ({ ...probe, at: probe.at - t0 }));
    const status = await set.statusLines(5_000);
    return {
      rssBefore,
      rssAfter,
      rssPeak,
      waitedMs,
      stable,
      accepted,
      acceptedAt,
      answered: status.ok,
      otherStatus: status.other,
      connectErrors: set.errors,
      serverSendQ: server.send,
      probes: p,
    };
  } finally {
    busy = false;
    set.destroy();
    await probes;
  }
}

/**
 * Opens STALLED non-reading connections against a server with a short send timeout and times,
 * from the moment they have all connected, how long until the server has closed them all: until
 * the kernel lists none of them as established on the server's side (a closed socket with unsent
 * bytes is in FIN-WAIT, not established). The kernel's list also holds the connections the server
 * has not taken yet, so a slow accept cannot hide any. Bounded to the send timeout plus 25 s.
 */
export async function cutRun(
  run: Run,
  target: Target,
): Promise<{ connected: number; left: number; firstCutMs: number; lastCutMs: number }> {
  const set = new StalledSet();
  run.stalled.push(set);
  try {
    await set.open(target.port, STALLED);
    const started = performance.now();
    const connected = set.connected;
    let firstCutMs = Number.NaN;
    let lastCutMs = Number.NaN;
    let left = connected;
    while (performance.now() - started < CUT_SEND_TIMEOUT_S * 1000 + 25_000) {
      left = (await kernelConnections(`sport = :${target.port}`)).count;
      const at = performance.now() - started;
      if (left < connected && Number.isNaN(firstCutMs)) firstCutMs = at;
      if (left === 0) {
        lastCutMs = at;
        break;
      }
      await sleep(100);
    }
    return { connected, left, firstCutMs, lastCutMs };
  } finally {
    set.destroy();
  }
}
