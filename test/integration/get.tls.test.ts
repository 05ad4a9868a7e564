/**
 * Redirects and TLS: `ranged get` refuses a redirect from https to http at every hop (the first
 * request, a resume, an expired redirect target) unless --allow-insecure-redirect, and still
 * follows http → https and https → https. The https servers use a self-signed certificate made
 * with openssl; the CLI child trusts it through NODE_EXTRA_CA_CERTS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { finished, spawnCli } from '../helpers/get-cli.js';
import { fixture, type Origin, type OriginOptions, startOrigin } from '../helpers/origin.js';
import { type Redirector, startRedirector, testCertificate, trustEnv } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const cert = testCertificate();
const skip = cert === undefined ? 'openssl is not installed' : false;
type Context = { after(fn: () => Promise<void>): void };

async function tempDir(t: Context): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ranged-tls-get-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An origin serving `body` over http, or over https with the test certificate. */
async function origin(
  t: Context,
  body: Buffer,
  scheme: 'http' | 'https',
  options: Partial<OriginOptions> = {},
): Promise<Origin> {
  const started = await startOrigin(body, {
    ...options,
    tls: scheme === 'https' ? cert : undefined,
  });
  t.after(() => started.close());
  return started;
}

async function redirector(t: Context, scheme: 'http' | 'https', location: string) {
  const started = await startRedirector({ location, tls: scheme === 'https' ? cert : undefined });
  t.after(() => started.close());
  return started;
}

/** `ranged get ARGS` in `dir`, trusting the test certificate. */
function get(args: string[], dir: string) {
  return runCli(['get', ...args], { cwd: dir, env: trustEnv(cert as NonNullable<typeof cert>) });
}

/** The error line for the hop from `from` to `to`. */
function refusal(from: Redirector, to: Origin): string {
  return `ranged: Cannot follow redirect from ${from.url} to ${to.url}: it drops TLS (use --allow-insecure-redirect to allow)`;
}

/** stderr ends with `expected` on one line, with no stack trace. */
function assertLastLine(stderr: string, expected: string): void {
  assert.equal(stderr.trimEnd().split('\n').at(-1), expected);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('ranged get refuses a redirect from https to http: exit 3, one line, nothing fetched over http', {
  skip,
}, async (t) => {
  const target = await origin(t, fixture(100_000), 'http');
  const from = await redirector(t, 'https', target.url);
  const dir = await tempDir(t);
  const r = await get([from.url], dir);
  assert.equal(r.code, 3, r.stderr);
  assertLastLine(r.stderr, refusal(from, target));
  assert.equal(target.requests.length, 0, 'no request over http');
  assert.equal(from.requests, 1, 'not retried');
  assert.deepEqual(await readdir(dir), []);
});

test('ranged get --allow-insecure-redirect follows https to http', { skip }, async (t) => {
  const body = fixture(100_000);
  const target = await origin(t, body, 'http');
  const from = await redirector(t, 'https', target.url);
  const dir = await tempDir(t);
  const r = await get([from.url, '--allow-insecure-redirect'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.ok(target.requests.length > 0);
});

test('ranged get follows http → https → https, and refuses that chain once its last hop goes to http', {
  skip,
}, async (t) => {
  const body = fixture(5 * MiB + 3);
  const target = await origin(t, body, 'https');
  const second = await redirector(t, 'https', target.url);
  const first = await redirector(t, 'http', second.url);
  const dir = await tempDir(t);
  const r = await get([first.url], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.ok(target.requests.length > 1, 'the file came from the https target, in ranges');

  const plain = await origin(t, body, 'http');
  second.location = plain.url;
  const again = await tempDir(t);
  const refused = await get([first.url], again);
  assert.equal(refused.code, 3, refused.stderr);
  assertLastLine(refused.stderr, refusal(second, plain));
  assert.equal(plain.requests.length, 0, 'no request over http');
  assert.deepEqual(await readdir(again), []);
});

test('a resume resolves the redirect again and refuses it once it leads to http; the journal is kept', {
  skip,
}, async (t) => {
  const body = fixture(6 * MiB);
  const secure = await origin(t, body, 'https', { bytesPerSecond: 2 * MiB });
  // The same file over http: same ETag and Last-Modified, so a resume there would be accepted.
  const plain = await origin(t, body, 'http');
  const from = await redirector(t, 'https', secure.url);
  const dir = await tempDir(t);
  const env = trustEnv(cert as NonNullable<typeof cert>);
  const child = spawnCli(['get', from.url, '-c', '2'], dir, env);
  const stopped = finished(child);
  await waitFor('1 MiB served', () => secure.served >= MiB);
  child.kill('SIGINT');
  assert.equal((await stopped).code, 130);
  const journal = await readFile(join(dir, 'file.bin.part.json'));

  from.location = plain.url;
  const r = await get([from.url, '-c', '2'], dir);
  assert.equal(r.code, 3, r.stderr);
  assertLastLine(r.stderr, refusal(from, plain));
  assert.equal(plain.requests.length, 0, 'no request over http');
  assert.deepEqual(await readFile(join(dir, 'file.bin.part.json')), journal, 'journal kept');

  const allowed = await get([from.url, '-c', '2', '--allow-insecure-redirect'], dir);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  // A resume sends If-Range from its first request on; a fresh download would not.
  assert.ok(plain.requests[0]?.ifRange !== undefined, 'the bytes fetched over https were kept');
});

test('an expired https redirect target is resolved again, and refused when that leads to http', {
  skip,
}, async (t) => {
  const body = fixture(8 * MiB);
  const plain = await origin(t, body, 'http');
  let from: Redirector | undefined;
  // `/signed` answers a new signed URL each time; each one works for one request, then 403s.
  const secure = await origin(t, body, 'https', {
    signedRequests: 1,
    onSigned: (resolved) => {
      if (resolved === 1 && from !== undefined) from.location = plain.url;
    },
  });
  from = await redirector(t, 'https', `${secure.base}/signed`);
  const dir = await tempDir(t);
  const r = await get([from.url, '-c', '4'], dir);
  assert.equal(r.code, 3, r.stderr);
  assertLastLine(r.stderr, refusal(from, plain));
  assert.equal(plain.requests.length, 0, 'no request over http');
  assert.ok(
    secure.requests.some((q) => q.status === 403),
    'the signed target expired',
  );
  assert.ok(from.requests >= 2, 'the redirect was resolved again');
});
