/**
 * `ranged get` through a proxy (test/helpers/proxy.ts): https URLs through CONNECT tunnels with TLS
 * end to end, http URLs as absolute-form requests; credentials from the proxy URL; NO_PROXY; a
 * refused tunnel; and a kill -9 midway resumed through the proxy, byte-identical.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { finished, spawnCli } from '../helpers/get-cli.js';
import { fixture, type Origin, startOrigin } from '../helpers/origin.js';
import { type ProxyOptions, startProxy, type TestProxy } from '../helpers/proxy.js';
import { testCertificate } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const cert = testCertificate();
const skip = cert === undefined ? 'openssl is not installed' : false;
type Context = { after(fn: () => Promise<void>): void };

async function setup(
  t: Context,
  body: Buffer,
  scheme: 'http' | 'https',
  proxyOptions: ProxyOptions = {},
): Promise<{ origin: Origin; proxy: TestProxy; dir: string }> {
  const origin = await startOrigin(body, { tls: scheme === 'https' ? cert : undefined });
  const proxy = await startProxy(proxyOptions);
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-proxy-'));
  t.after(async () => {
    await origin.close();
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { origin, proxy, dir };
}

/** The environment with only these proxy variables (and no NODE_EXTRA_CA_CERTS). */
function envWith(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/_proxy$/i.test(name) && name !== 'NODE_EXTRA_CA_CERTS') env[name] = value;
  }
  return { ...env, ...vars };
}

const ca = (): string[] => ['--ca', (cert as NonNullable<typeof cert>).certPath];
const withCredentials = (proxy: TestProxy): string =>
  `http://us%40er:p%3Ass@127.0.0.1:${proxy.port}`;
const basic = `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`;

function onlyLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0] ?? '';
}

test("ranged get tunnels https through HTTPS_PROXY with the URL's credentials; a kill -9 resumes through it byte-identical", {
  skip,
}, async (t) => {
  const body = fixture(12 * MiB + 11);
  const { origin, proxy, dir } = await setup(t, body, 'https', { credentials: 'us@er:p:ss' });
  const env = envWith({ HTTPS_PROXY: withCredentials(proxy) });
  origin.options.bytesPerSecond = 4 * MiB;
  const child = spawnCli(['get', origin.url, '-c', '4', ...ca()], dir, env);
  const first = finished(child);
  await waitFor('3 MiB served', () => origin.served >= 3 * MiB);
  child.kill('SIGKILL');
  await first;
  const before = origin.requests.length;
  origin.options.bytesPerSecond = undefined;

  const r = await runCli(['get', origin.url, '-c', '4', ...ca()], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  const resumed = origin.requests.slice(before);
  assert.ok(resumed.length > 0 && resumed.every((q) => q.ifRange === '"v1-12582923"'), 'resumed');
  assert.ok(
    resumed.every((q) => q.range !== 'bytes=0-'),
    'no byte fetched again from the start',
  );
  // Every request came through a tunnel, and the credentials went to the proxy only.
  assert.equal(proxy.tunnels.length, origin.requests.length);
  assert.ok(proxy.tunnels.every((a) => a === new URL(origin.url).host));
  assert.ok(proxy.authorizations.every((a) => a === basic));
  assert.ok(origin.requests.every((q) => q.headers['proxy-authorization'] === undefined));
});

test('ranged get: a proxy that refuses CONNECT is one clear line, exit 3, nothing fetched', {
  skip,
}, async (t) => {
  const { origin, proxy, dir } = await setup(t, fixture(1000), 'https', { credentials: 'a:b' });
  const url = (auth: string) => `http://${auth}127.0.0.1:${proxy.port}`;
  const none = await runCli(['get', origin.url, ...ca()], {
    cwd: dir,
    env: envWith({ HTTPS_PROXY: url('') }),
  });
  assert.equal(none.code, 3, none.stderr);
  assert.equal(
    onlyLine(none.stderr),
    `ranged: Cannot download "${origin.url}": the proxy ${proxy.url} (HTTPS_PROXY) refused the tunnel: 407 Proxy Authentication Required (it wants credentials: http://user:pass@host:port)`,
  );
  const wrong = await runCli(['get', origin.url, ...ca()], {
    cwd: dir,
    env: envWith({ https_proxy: url('a:wrong@') }),
  });
  assert.equal(wrong.code, 3, wrong.stderr);
  assert.match(
    onlyLine(wrong.stderr),
    /\(https_proxy\) refused the tunnel: 407 .*refused the credentials/,
  );
  proxy.options.refuseConnect = 403;
  const forbidden = await runCli(['get', origin.url, ...ca()], {
    cwd: dir,
    env: envWith({ HTTPS_PROXY: url('a:b@') }),
  });
  assert.equal(forbidden.code, 3, forbidden.stderr);
  assert.match(onlyLine(forbidden.stderr), /refused the tunnel: 403 Forbidden$/);
  assert.equal(origin.requests.length, 0);
  assert.equal(proxy.refused.length, 3, 'not retried');
});

test('ranged get: lower-case https_proxy wins over HTTPS_PROXY, and NO_PROXY goes direct', {
  skip,
}, async (t) => {
  const body = fixture(300_000);
  const { origin, proxy, dir } = await setup(t, body, 'https');
  const dead = 'http://127.0.0.1:1';
  const lower = await runCli(['get', origin.url, '-o', 'a.bin', ...ca()], {
    cwd: dir,
    env: envWith({ https_proxy: proxy.url, HTTPS_PROXY: dead }),
  });
  assert.equal(lower.code, 0, lower.stderr);
  assert.deepEqual(await readFile(join(dir, 'a.bin')), body);
  assert.ok(proxy.tunnels.length > 0);

  const tunnels = proxy.tunnels.length;
  for (const noProxy of [
    '127.0.0.1',
    '*',
    'example.com, 127.0.0.0/8',
    `127.0.0.1:${new URL(origin.url).port}`,
  ]) {
    const direct = await runCli(['get', origin.url, '-o', 'b.bin', '-f', ...ca()], {
      cwd: dir,
      env: envWith({ HTTPS_PROXY: dead, NO_PROXY: noProxy }),
    });
    assert.equal(direct.code, 0, `${noProxy}: ${direct.stderr}`);
    assert.deepEqual(await readFile(join(dir, 'b.bin')), body);
  }
  assert.equal(proxy.tunnels.length, tunnels);

  const other = await runCli(['get', origin.url, '-o', 'c.bin', ...ca()], {
    cwd: dir,
    env: envWith({ HTTPS_PROXY: dead, NO_PROXY: '127.0.0.2,localhost' }),
  });
  assert.equal(other.code, 4, other.stderr);
  assert.match(
    onlyLine(other.stderr),
    /cannot reach the proxy http:\/\/127\.0\.0\.1:1 \(HTTPS_PROXY\): connection refused$/,
  );
});

const badProxies: [Record<string, string>, RegExp][] = [
  [
    { HTTPS_PROXY: 'socks5://127.0.0.1:1080' },
    /^ranged: Cannot use HTTPS_PROXY: "socks5:\/\/" proxies are not supported \(only http:\/\/\)$/,
  ],
  [
    { http_proxy: 'https://127.0.0.1:3128' },
    /^ranged: Cannot use http_proxy: "https:\/\/" proxies are not supported/,
  ],
];
for (const [vars, message] of badProxies) {
  test(`ranged get with ${JSON.stringify(vars)}: exit 2, one line`, async (t) => {
    const { origin, dir } = await setup(t, fixture(100), 'http');
    const r = await runCli(['get', origin.url], { cwd: dir, env: envWith(vars) });
    assert.equal(r.code, 2, r.stderr);
    assert.match(onlyLine(r.stderr), message);
    assert.equal(origin.requests.length, 0);
  });
}

test('ranged get sends http through HTTP_PROXY in absolute-form with the credentials; a kill -9 resumes through it byte-identical', async (t) => {
  const body = fixture(12 * MiB + 5);
  const { origin, proxy, dir } = await setup(t, body, 'http', { credentials: 'us@er:p:ss' });
  const env = envWith({ http_proxy: withCredentials(proxy), HTTP_PROXY: 'http://127.0.0.1:1' });
  origin.options.bytesPerSecond = 4 * MiB;
  const child = spawnCli(['get', origin.url, '-c', '4'], dir, env);
  const first = finished(child);
  await waitFor('3 MiB served', () => origin.served >= 3 * MiB);
  child.kill('SIGKILL');
  await first;
  const before = origin.requests.length;
  origin.options.bytesPerSecond = undefined;

  const r = await runCli(['get', origin.url, '-c', '4'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  const resumed = origin.requests.slice(before);
  assert.ok(resumed.length > 0 && resumed.every((q) => q.ifRange === '"v1-12582917"'), 'resumed');
  assert.ok(
    resumed.every((q) => q.range !== 'bytes=0-'),
    'no byte fetched again from the start',
  );
  assert.equal(proxy.forwarded.length, origin.requests.length, 'every request through the proxy');
  assert.ok(
    proxy.forwarded.every((target) => target === origin.url),
    'absolute-form',
  );
  assert.deepEqual(proxy.originForm, []);
  assert.ok(proxy.authorizations.every((a) => a === basic));
  assert.ok(origin.requests.every((q) => q.headers['proxy-authorization'] === undefined));
});

test('ranged get: an http proxy that wants credentials is one line, exit 3; NO_PROXY goes direct', async (t) => {
  const body = fixture(1000);
  const { origin, proxy, dir } = await setup(t, body, 'http', { credentials: 'a:b' });
  const r = await runCli(['get', origin.url], {
    cwd: dir,
    env: envWith({ HTTP_PROXY: proxy.url }),
  });
  assert.equal(r.code, 3, r.stderr);
  assert.equal(
    onlyLine(r.stderr),
    `ranged: Cannot download "${origin.url}": the proxy ${proxy.url} (HTTP_PROXY) answered 407 Proxy Authentication Required (it wants credentials: http://user:pass@host:port)`,
  );
  assert.equal(origin.requests.length, 0);

  const dead = await runCli(['get', origin.url], {
    cwd: dir,
    env: envWith({ HTTP_PROXY: 'http://127.0.0.1:1' }),
  });
  assert.equal(dead.code, 4, dead.stderr);
  assert.match(
    onlyLine(dead.stderr),
    /cannot reach the proxy http:\/\/127\.0\.0\.1:1 \(HTTP_PROXY\): connection refused$/,
  );

  const direct = await runCli(['get', origin.url], {
    cwd: dir,
    env: envWith({
      HTTP_PROXY: 'http://127.0.0.1:1',
      no_proxy: 'localhost 127.0.0.1',
      NO_PROXY: 'x',
    }),
  });
  assert.equal(direct.code, 0, direct.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
});

test('ranged get: -H fields go through the proxy to the origin, never in the CONNECT', {
  skip,
}, async (t) => {
  const body = fixture(100_000);
  const { origin, proxy, dir } = await setup(t, body, 'https');
  const r = await runCli(['get', origin.url, '-H', 'Authorization: Bearer t', ...ca()], {
    cwd: dir,
    env: envWith({ HTTPS_PROXY: proxy.url }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.ok(origin.requests.every((q) => q.headers.authorization === 'Bearer t'));
  assert.ok(proxy.tunnels.length > 0);
});
