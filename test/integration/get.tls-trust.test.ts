/**
 * Which certificates `ranged get` trusts: by default Node's roots (a self-signed certificate fails
 * at once, exit 4, not retried); `--ca FILE` trusts the PEM bundle in FILE instead (as curl's
 * --cacert); `--insecure` skips the check and says so once. The same through the library options
 * `ca` and `insecure`. The certificate is made with openssl at test time; no child here trusts it
 * through NODE_EXTRA_CA_CERTS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { download } from '../../src/client/download.js';
import { NetworkError, UsageError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { fixture, type Origin, startOrigin } from '../helpers/origin.js';
import { testCertificate } from '../helpers/tls.js';

const MiB = 1024 * 1024;
const cert = testCertificate();
const skip = cert === undefined ? 'openssl is not installed' : false;
type Context = { after(fn: () => Promise<void>): void };

/** An https origin with the test certificate, and a temporary folder. */
async function setup(t: Context, body: Buffer): Promise<{ origin: Origin; dir: string }> {
  const origin = await startOrigin(body, { tls: cert });
  const dir = await mkdtemp(join(tmpdir(), 'ranged-tls-trust-'));
  t.after(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { origin, dir };
}

/** The environment without NODE_EXTRA_CA_CERTS: only Node's roots are trusted. */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function get(args: string[], dir: string) {
  return runCli(['get', ...args], { cwd: dir, env: plainEnv() });
}

function onlyLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0] ?? '';
}

test('ranged get refuses a self-signed certificate at once: exit 4, one line, no retry', {
  skip,
}, async (t) => {
  const { origin, dir } = await setup(t, fixture(1000));
  const started = performance.now();
  const r = await get([origin.url], dir);
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    onlyLine(r.stderr),
    /^ranged: Cannot download "https:.*": self-signed certificate \(the certificate is not trusted: --ca FILE trusts a PEM bundle, --insecure skips the check\)$/,
  );
  assert.ok(performance.now() - started < 10_000, 'not retried with backoff');
  assert.equal(origin.requests.length, 0, 'no request sent over an unverified connection');
});

test('ranged get --ca FILE trusts that certificate: a segmented download, byte-identical', {
  skip,
}, async (t) => {
  const body = fixture(6 * MiB + 7);
  const { origin, dir } = await setup(t, body);
  const r = await get([origin.url, '--ca', (cert as NonNullable<typeof cert>).certPath], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.ok(origin.requests.length > 1, 'several ranges');
  assert.doesNotMatch(r.stderr, /insecure|Warning/);
});

test('ranged get --insecure skips verification and says so once', { skip }, async (t) => {
  const body = fixture(5 * MiB);
  const { origin, dir } = await setup(t, body);
  const r = await get([origin.url, '--insecure', '-c', '4'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.equal(r.stderr.match(/not verified/g)?.length, 1, r.stderr);
  assert.match(r.stderr, /^Warning: --insecure: TLS certificates are not verified\n/);
});

const badCa: [string, (dir: string) => Promise<string>, RegExp][] = [
  [
    'a missing file',
    async (dir) => join(dir, 'missing.pem'),
    /^ranged: Cannot read --ca ".*missing\.pem": no such file$/,
  ],
  ['a folder', async (dir) => dir, /^ranged: Cannot read --ca ".*": it is a folder$/],
  [
    'a file without a certificate',
    async (dir) => {
      await writeFile(join(dir, 'junk.pem'), 'not a certificate\n');
      return join(dir, 'junk.pem');
    },
    /^ranged: Cannot use --ca ".*junk\.pem": no PEM certificate found$/,
  ],
  [
    'a damaged certificate',
    async (dir) => {
      const pem = (cert as NonNullable<typeof cert>).cert.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n');
      await writeFile(join(dir, 'bad.pem'), pem.replace('MII', 'XXX'));
      return join(dir, 'bad.pem');
    },
    /^ranged: Cannot use --ca ".*bad\.pem": /,
  ],
];
for (const [name, make, message] of badCa) {
  test(`ranged get --ca with ${name}: exit 2, one line, nothing fetched`, { skip }, async (t) => {
    const { origin, dir } = await setup(t, fixture(100));
    const r = await get([origin.url, '--ca', await make(dir), '-o', 'out.bin'], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(onlyLine(r.stderr), message);
    assert.equal(origin.requests.length, 0);
  });
}

test('download() takes ca and insecure; a bad ca is a UsageError', { skip }, async (t) => {
  const body = fixture(300_000);
  const { origin, dir } = await setup(t, body);
  const pem = (cert as NonNullable<typeof cert>).cert;
  const out = (name: string) => join(dir, name);
  await assert.rejects(download(origin.url, { output: out('a'), retries: 0 }).done, NetworkError);
  await download(origin.url, { output: out('b'), ca: pem }).done;
  assert.deepEqual(await readFile(out('b')), body);
  await download(origin.url, { output: out('c'), insecure: true }).done;
  assert.deepEqual(await readFile(out('c')), body);
  await assert.rejects(download(origin.url, { output: out('d'), ca: 'junk' }).done, UsageError);
});
