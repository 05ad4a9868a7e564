import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const module = new URL('../../src/server/dead-reads.js', import.meta.url).href;

/**
 * In a quiet process of its own (the test runner's own work would collect garbage anyway): 8 MiB
 * of 64 KiB reads, each dropped at once as an upload's copied socket reads are, then
 * droppedReads() for them or not; the external memory still held after up to 1 s.
 */
async function heldAfter(call: boolean): Promise<number> {
  const script = `
    import { droppedReads } from ${JSON.stringify(module)};
    import { setTimeout as sleep } from 'node:timers/promises';
    for (let i = 0; i < 128; i++) Buffer.allocUnsafeSlow(64 * 1024).fill(i);
    if (${call}) droppedReads(8 * 1024 * 1024);
    for (let t = 0; t < 100 && process.memoryUsage().arrayBuffers > 2 * 1024 * 1024; t++) await sleep(10);
    process.stdout.write(String(process.memoryUsage().arrayBuffers));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return Number(stdout);
}

test('droppedReads() frees the dropped body reads once 8 MiB were received; nothing else did', async () => {
  const MiB = 1024 * 1024;
  assert.ok((await heldAfter(false)) >= 8 * MiB, 'without it, the reads stay held');
  assert.ok((await heldAfter(true)) < 2 * MiB, 'with it, they are freed');
});
