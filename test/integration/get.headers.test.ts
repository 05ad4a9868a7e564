/**
 * `ranged get -H`: the user's fields on every request of a download (probe, ranges, a resume after
 * kill -9), never across origins on a redirect (curl's rule: Authorization and Cookie included),
 * refused in one line when malformed or when they would break the engine's own. Also the option
 * errors of the command line (an unknown option, a negative number).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { finished, runCli, spawnCli } from '../helpers/get-cli.js';
import { fixture, type Origin, type OriginOptions, startOrigin } from '../helpers/origin.js';
import { startRedirector } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
type Context = { after(fn: () => Promise<void>): void };

async function setup(
  t: Context,
  body: Buffer,
  options: Partial<OriginOptions> = {},
): Promise<{ origin: Origin; dir: string }> {
  const origin = await startOrigin(body, options);
  const dir = await mkdtemp(join(tmpdir(), 'ranged-get-headers-'));
  t.after(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { origin, dir };
}

/** stderr is exactly one line `expected` (no stack trace). */
function assertOnlyLine(stderr: string, expected: string | RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  if (typeof expected === 'string') assert.equal(lines[0], expected);
  else assert.match(lines[0] ?? '', expected);
}

const SECRET = [
  '-H',
  'Authorization: Bearer s3cret',
  '--header',
  'Cookie: a=1',
  '-H',
  'X-Trace: t1',
];

test('ranged get -H sends the fields on the probe, every range and the resume after kill -9', async (t) => {
  const body = fixture(8 * MiB + 5);
  const { origin, dir } = await setup(t, body, { bytesPerSecond: 4 * MiB });
  const child = spawnCli(['get', origin.url, '-c', '4', '-H', 'Cookie: b=2', ...SECRET], dir);
  const first = finished(child);
  await waitFor('2 MiB served', () => origin.served >= 2 * MiB);
  child.kill('SIGKILL');
  await first;
  const before = origin.requests.length;
  origin.options.bytesPerSecond = undefined;
  const r = await runCli(['get', origin.url, '-c', '4', '-H', 'Cookie: b=2', ...SECRET], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'file.bin')), body);
  assert.ok(origin.requests.length > before, 'the second run asked again');
  assert.ok(
    origin.requests.slice(before).some((q) => q.ifRange !== undefined),
    'it resumed',
  );
  for (const q of origin.requests) {
    assert.equal(q.headers.authorization, 'Bearer s3cret');
    assert.equal(q.headers.cookie, 'b=2; a=1', 'repeated Cookie fields joined with "; "');
    assert.equal(q.headers['x-trace'], 't1');
    assert.equal(q.acceptEncoding, 'identity', 'the engine keeps its own fields');
  }
});

test("ranged get -H User-Agent replaces ranged's", async (t) => {
  const { origin, dir } = await setup(t, fixture(1000));
  const r = await runCli(['get', origin.url, '-H', 'User-Agent: tester/1'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    origin.requests.map((q) => q.headers['user-agent']),
    origin.requests.map(() => 'tester/1'),
  );
});

test('ranged get -H: a redirect to another origin carries none of the fields; one on the same origin does', async (t) => {
  const body = fixture(5 * MiB + 1);
  const { origin, dir } = await setup(t, body);
  const from = await startRedirector({ location: origin.url });
  t.after(() => from.close());
  const r = await runCli(['get', from.url, '-o', 'a.bin', ...SECRET], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(join(dir, 'a.bin')), body);
  assert.equal(from.headers[0]?.authorization, 'Bearer s3cret', 'sent to the URL given');
  assert.ok(origin.requests.length > 1, 'ranges on the redirect target');
  for (const q of origin.requests) {
    assert.equal(q.headers.authorization, undefined, 'no Authorization across origins');
    assert.equal(q.headers.cookie, undefined, 'no Cookie across origins');
    assert.equal(q.headers['x-trace'], undefined, 'no custom field across origins');
  }

  const count = origin.requests.length;
  const same = await runCli(['get', `${origin.base}/redirect/2`, '-o', 'b.bin', ...SECRET], dir);
  assert.equal(same.code, 0, same.stderr);
  assert.deepEqual(await readFile(join(dir, 'b.bin')), body);
  for (const q of origin.requests.slice(count)) {
    assert.equal(q.headers.authorization, 'Bearer s3cret', `${q.url} on the same origin`);
  }
});

const refused: [string, string[], RegExp][] = [
  ['no colon', ['-H', 'X-Token abc'], /^ranged: Cannot use --header "X-Token abc": .*has no colon/],
  ['a bad name', ['-H', 'X Token: v'], /"X Token" is not a valid field name/],
  ['a CR LF in the value', ['-H', 'X: a\r\nInjected: 1'], /control character/],
  ['a Range', ['-H', 'Range: bytes=0-9'], /Range cannot be set: the engine asks for the ranges/],
  ['an If-Range', ['--header', 'If-Range: "x"'], /If-Range cannot be set/],
  ['an Accept-Encoding', ['-H', 'Accept-Encoding: gzip'], /bytes as stored/],
];
for (const [name, args, message] of refused) {
  test(`ranged get -H refuses ${name}: exit 2, one line, no request`, async (t) => {
    const { origin, dir } = await setup(t, fixture(100));
    const r = await runCli(['get', origin.url, ...args], dir);
    assert.equal(r.code, 2, r.stderr);
    assertOnlyLine(r.stderr, message);
    assert.equal(origin.requests.length, 0);
  });
}

const optionErrors: [string[], string][] = [
  [['--foo'], "ranged: Unknown option '--foo'. See 'ranged get --help'."],
  [['-Z'], "ranged: Unknown option '-Z'. See 'ranged get --help'."],
  [['-c', '-1'], 'ranged: Cannot use --connections "-1": must be a positive integer from 1 to 64'],
  [
    ['--connections', '-2'],
    'ranged: Cannot use --connections "-2": must be a positive integer from 1 to 64',
  ],
  [
    ['--retries', '-3'],
    'ranged: Cannot use --retries "-3": must be a non-negative integer from 0 to 1000',
  ],
];
for (const [args, expected] of optionErrors) {
  test(`ranged get ${args.join(' ')}: exit 2 with "${expected}"`, async (t) => {
    const { origin, dir } = await setup(t, fixture(100));
    const r = await runCli(['get', origin.url, ...args], dir);
    assert.equal(r.code, 2, r.stderr);
    assertOnlyLine(r.stderr, expected);
  });
}

test("ranged serve --foo names serve's help: exit 2, one line", async (t) => {
  const { dir } = await setup(t, fixture(1));
  const r = await runCli(['serve', dir, '--foo'], dir);
  assert.equal(r.code, 2, r.stderr);
  assertOnlyLine(r.stderr, "ranged: Unknown option '--foo'. See 'ranged serve --help'.");
});
