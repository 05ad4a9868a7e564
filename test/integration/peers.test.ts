/**
 * Real download clients (curl, wget, aria2c) interrupted mid-transfer and resumed against
 * ranged serve; the result must match the source byte for byte.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { listen } from '../helpers/listen.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

const SIZE = 20 * 1024 * 1024;
const source = bytes(SIZE, 3);

function run(
  cmd: string,
  args: string[],
  cwd: string,
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
  return { child, done };
}

interface Peer {
  name: string;
  bin: string;
  /** The throttled first attempt, interrupted after a second. */
  first: (url: string, out: string) => string[];
  /** The resumed attempt. */
  resume: (url: string, out: string) => string[];
  /** Signal that stops the first attempt the way a person would. */
  signal: NodeJS.Signals;
}

const peers: Peer[] = [
  {
    name: 'curl -C -',
    bin: '/usr/bin/curl',
    first: (url, out) => ['-sS', '--limit-rate', '4M', '-o', out, url],
    resume: (url, out) => ['-sS', '-f', '-C', '-', '-o', out, url],
    signal: 'SIGKILL',
  },
  {
    name: 'wget -c',
    bin: '/usr/bin/wget',
    first: (url, out) => ['-q', '--limit-rate=4m', '-O', out, url],
    resume: (url, out) => ['-q', '-c', '-O', out, url],
    signal: 'SIGKILL',
  },
  {
    name: 'aria2c -x4',
    bin: '/usr/bin/aria2c',
    first: (url, out) => [...ariaCommon(out), '--max-overall-download-limit=4M', url],
    resume: (url, out) => [...ariaCommon(out), url],
    signal: 'SIGINT', // aria2 saves its control file on SIGINT
  },
];

function ariaCommon(out: string): string[] {
  return [
    '-q',
    '-x4',
    '-s4',
    '-k1M',
    '-c',
    '--file-allocation=none',
    '--auto-file-renaming=false',
    '--allow-overwrite=false',
    '-d',
    '.',
    '-o',
    out,
  ];
}

for (const peer of peers) {
  test(`${peer.name} resumes a partly downloaded 20 MiB file from ranged serve`, async (t) => {
    assert.ok(existsSync(peer.bin), `${peer.bin} is missing (.ci/run installs it)`);
    const tree = await makeTree({ pub: { 'big.bin': source }, out: {} });
    t.after(tree.cleanup);
    const log: string[] = [];
    const server = await listen(t, { root: join(tree.dir, 'pub'), log: (line) => log.push(line) });
    const url = `${server.url}/big.bin`;
    const cwd = join(tree.dir, 'out');
    const out = 'big.bin';

    const first = run(peer.bin, peer.first(url, out), cwd);
    // Interrupt once some, but not all, of the file has arrived.
    await waitFor('1 MiB on disk', async () => {
      const size = await stat(join(cwd, out)).then(
        (s) => s.size,
        () => 0,
      );
      return size >= 1024 * 1024;
    });
    first.child.kill(peer.signal);
    await first.done;
    const partial = (await stat(join(cwd, out))).size;
    assert.ok(partial < SIZE, `the first attempt was interrupted (${partial} bytes)`);

    const { code, stderr } = await run(peer.bin, peer.resume(url, out), cwd).done;
    assert.equal(code, 0, stderr);
    const result = await readFile(join(cwd, out));
    assert.equal(result.length, SIZE);
    assert.ok(result.equals(source), 'byte-identical');
    assert.ok(
      log.some((line) => / 206 /.test(line)),
      `a Range request was answered 206:\n${log.join('\n')}`,
    );
  });
}
