/**
 * PrefixDigest over a real part file: writes in any order, twice, from a held prefix, and after a
 * reset must all give the digest of the file's bytes, each byte hashed once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrefixDigest } from '../../src/client/store/prefix-digest.js';
import { addSpan, type Span } from '../../src/core/segments.js';
import { fixture } from '../helpers/origin.js';

async function partFile(t: { after(fn: () => Promise<void>): void }, size: number) {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-digest-'));
  const fh = await open(join(dir, 'out.part'), 'w+');
  await fh.truncate(size);
  t.after(async () => {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  });
  let done: Span[] = [];
  const prefix = (): number => (done[0]?.start === 0 ? done[0].end : 0);
  /** Writes like fetch-claim's pump: the file, then the spans, then the digest. */
  const write = async (digest: PrefixDigest, data: Buffer, at: number): Promise<void> => {
    await fh.write(data, 0, data.length, at);
    done = addSpan(done, { start: at, end: at + data.length });
    digest.wrote(data, at);
  };
  return {
    fh,
    prefix,
    write,
    reset: () => {
      done = [];
    },
  };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('PrefixDigest hashes out-of-order and repeated writes once, in file order', async (t) => {
  const body = fixture(20 * 1024 * 1024 + 3);
  const file = await partFile(t, body.length);
  const digest = new PrefixDigest('sha256');
  digest.attach({ fh: file.fh, prefix: file.prefix });
  const chunk = 256 * 1024;
  // Four "connections": the upper segments write first; the first then sweeps over them, and
  // writes some bytes a second time (a raced tail).
  const quarter = Math.floor(body.length / 4);
  const writes: Promise<void>[] = [];
  for (let seg = 1; seg < 4; seg++) {
    const start = seg * quarter;
    const end = seg === 3 ? body.length : start + quarter;
    writes.push(
      (async () => {
        for (let at = start; at < end; at += chunk) {
          await file.write(digest, body.subarray(at, Math.min(end, at + chunk)), at);
        }
      })(),
    );
  }
  await Promise.all(writes);
  for (let at = 0; at < quarter; at += chunk) {
    const end = Math.min(quarter, at + chunk);
    await file.write(digest, body.subarray(at, end), at);
    if (at > chunk) await file.write(digest, body.subarray(at - 1000, end), at - 1000);
  }
  assert.equal(await digest.digest(body.length), sha256(body));
  await digest.detach();
});

test('PrefixDigest catches up on a held prefix, and starts over after reset()', async (t) => {
  const body = fixture(3 * 1024 * 1024);
  const file = await partFile(t, body.length);
  const first = new PrefixDigest('md5');
  first.attach({ fh: file.fh, prefix: file.prefix });
  await file.write(first, body.subarray(0, 1_000_000), 0);
  await first.detach();
  // A new process: the held prefix is read back once, then the rest comes from buffers.
  const digest = new PrefixDigest('md5');
  digest.attach({ fh: file.fh, prefix: file.prefix });
  await file.write(digest, body.subarray(1_000_000, 2_000_000), 1_000_000);
  // The stream is taken again from byte 0 (other bytes this time): nothing hashed may stay.
  const other = fixture(body.length, 5);
  file.reset();
  digest.reset();
  for (let at = 0; at < other.length; at += 100_000) {
    await file.write(digest, other.subarray(at, at + 100_000), at);
  }
  assert.equal(await digest.digest(other.length), createHash('md5').update(other).digest('hex'));
  assert.equal(await digest.digest(other.length + 1), undefined);
  await digest.detach();
});
