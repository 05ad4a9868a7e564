/**
 * Issue 9 §1: nothing outside the root is ever served or listed, even while names inside it are
 * swapped for symlinks that lead out. A child process flips a file and a folder between their real
 * selves and symlinks to outside in a tight loop while thousands of requests (files, folder files,
 * listings) race it, against `ranged serve` alone and with `--workers 2`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServeCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';

const SECRET = 'OUTSIDE-SECRET-BYTES';
const OUTSIDE_NAME = 'outside-only-name';

/** The flipper: swaps `x.txt` and `d` between real entries and symlinks out, until told to stop. */
const FLIPPER = `
const fs = require('node:fs');
const [pub, outFile, outDir] = process.argv.slice(1);
const at = (n) => pub + '/' + n;
let flips = 0, stop = false;
process.stdin.on('data', () => { stop = true; });
process.stdin.resume();
const step = () => {
  const until = Date.now() + 20;
  while (Date.now() < until) {
    try {
      fs.symlinkSync(outFile, at('.x-link')); fs.renameSync(at('.x-link'), at('x.txt'));
      fs.writeFileSync(at('.x-file'), 'inside x'); fs.renameSync(at('.x-file'), at('x.txt'));
      fs.renameSync(at('d'), at('.d-park')); fs.symlinkSync(outDir, at('d'));
      fs.unlinkSync(at('d')); fs.renameSync(at('.d-park'), at('d'));
      flips++;
    } catch (e) { process.stderr.write(String(e) + '\\n'); }
  }
  if (stop || flips > 2e6) { process.stdout.write(String(flips)); process.exit(0); }
  setImmediate(step);
};
step();
`;

interface Tally {
  requests: number;
  leaks: string[];
  insideFile: number;
  insideFolderFile: number;
  listings: number;
}

function get(agent: Agent, url: string, path: string, json: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { agent, headers: json ? { Accept: 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`Cannot GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function race(url: string, requests: number): Promise<Tally> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const tally: Tally = { requests: 0, leaks: [], insideFile: 0, insideFolderFile: 0, listings: 0 };
  const targets: [string, boolean][] = [
    ['/x.txt', false],
    ['/d/f.txt', false],
    ['/d/', true],
    ['/d/', false],
    ['/', true],
  ];
  const deadline = performance.now() + 60_000;
  let next = 0;
  const worker = async () => {
    while (next < requests && performance.now() < deadline) {
      const [path, json] = targets[next++ % targets.length] ?? ['/', false];
      const answer = await get(agent, url, path, json);
      tally.requests++;
      if (answer.includes(SECRET) || answer.includes(OUTSIDE_NAME)) {
        tally.leaks.push(`${path}: ${answer.slice(0, 120)}`);
      }
      if (answer === '200 inside x') tally.insideFile++;
      if (answer === '200 inside d') tally.insideFolderFile++;
      if (answer.startsWith('200 ') && path === '/d/') tally.listings++;
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  return tally;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const tree = await makeTree({
    outside: { 'secret.txt': SECRET, dir: { 'f.txt': SECRET } },
    pub: { 'x.txt': 'inside x', d: { 'f.txt': 'inside d' } },
  });
  t.after(tree.cleanup);
  for (let i = 0; i < 20; i++) {
    await writeFile(join(tree.dir, 'outside', 'dir', `${OUTSIDE_NAME}-${i}.txt`), SECRET);
  }
  await mkdir(join(tree.dir, 'pub', 'other'));
  return {
    pub: join(tree.dir, 'pub'),
    outFile: join(tree.dir, 'outside', 'secret.txt'),
    outDir: join(tree.dir, 'outside', 'dir'),
  };
}

async function stopFlipper(flipper: ChildProcess): Promise<number> {
  let out = '';
  flipper.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = once(flipper, 'exit');
  flipper.stdin?.end('stop');
  const timer = setTimeout(() => flipper.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  return Number(out);
}

for (const workers of [[], ['--workers', '2']]) {
  const label = workers.length === 0 ? 'one process' : '--workers 2';
  test(`serve never answers with bytes or names from outside the root while links are swapped (${label})`, async (t) => {
    const { pub, outFile, outDir } = await setup(t);
    const server = await startServeCli(pub, ['--quiet', ...workers]);
    t.after(() => server.child.kill('SIGKILL'));
    const flipper = spawn(process.execPath, ['-e', FLIPPER, pub, outFile, outDir], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    t.after(() => flipper.kill('SIGKILL'));
    const tally = await race(server.url, 6_000);
    const flips = await stopFlipper(flipper);
    assert.deepEqual(tally.leaks.slice(0, 5), [], `${tally.leaks.length} leaks`);
    // The race ran: the flipper flipped, and the requests saw the inside versions many times.
    assert.ok(flips >= 100, `${flips} flips`);
    assert.ok(tally.requests >= 1_000, `${tally.requests} requests`);
    assert.ok(tally.insideFile > 0, JSON.stringify(tally));
    assert.ok(tally.insideFolderFile > 0, JSON.stringify(tally));
    assert.ok(tally.listings > 0, JSON.stringify(tally));
  });
}
