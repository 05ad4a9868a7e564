/**
 * `ranged put` against `ranged serve --uploads` (issue 13): tus and the IETF draft deliver a file
 * byte-identical, -c 4 by concatenation, --chunk-checksum, and the one-line failures (a wrong
 * token, a missing FILE, a bad URL).
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes } from '../helpers/bytes.js';
import { runCli, startServeCli } from '../helpers/cli.js';
import { runPut, TOKEN } from '../helpers/put-cli.js';
import { makeTree } from '../helpers/tree.js';

const MiB = 1024 * 1024;

async function setup() {
  const root = await makeTree({ srv: {}, state: {}, local: {} });
  const srv = join(root.dir, 'srv');
  const server = await startServeCli(srv, ['--uploads', '--upload-token', TOKEN]);
  return {
    srv,
    state: join(root.dir, 'state'),
    local: join(root.dir, 'local'),
    url: server.url,
    serverLog: server.stderr,
    async cleanup() {
      server.child.kill('SIGKILL');
      await root.cleanup();
    },
  };
}

test('ranged put uploads 21 MiB by tus, byte-identical, and leaves no state behind', async () => {
  const t = await setup();
  try {
    const data = bytes(21 * MiB + 123, 1);
    const file = join(t.local, 'take1.wav');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/.uploads/`, '--quiet'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok((await readFile(join(t.srv, 'take1.wav'))).equals(data));
    assert.deepEqual(await readdir(join(t.state, 'ranged')), []);
    // 8 MiB first, then 16 MiB (the rest) when the first took under half a second (two
    // PATCHes), else 8 MiB again (three): never more, never one whole-file request.
    const patches = t.serverLog().match(/^PATCH \/\.uploads\/\S+ 204/gm)?.length;
    assert.ok(patches === 2 || patches === 3, `${patches} PATCHes`);
  } finally {
    await t.cleanup();
  }
});

test('ranged put --protocol ietf uploads 21 MiB to the target path, byte-identical', async () => {
  const t = await setup();
  try {
    const data = bytes(21 * MiB + 7, 2);
    const file = join(t.local, 'video.mp4');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/music/take2.mp4`, '--protocol', 'ietf'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Uploaded ".*video\.mp4" \(21\.0 MiB\)/);
    assert.ok((await readFile(join(t.srv, 'music/take2.mp4'))).equals(data));
  } finally {
    await t.cleanup();
  }
});

test('ranged put discovers the IETF draft on a file URL (OPTIONS without Tus-Version)', async () => {
  const t = await setup();
  try {
    const data = bytes(3 * MiB, 3);
    const file = join(t.local, 'a.bin');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/b.bin`, '--quiet'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(t.srv, 'b.bin'))).equals(data));
    assert.match(t.serverLog(), /^PATCH \/\.uploads\/\S+ 201/m);
  } finally {
    await t.cleanup();
  }
});

test('ranged put -c 4 sends four partial uploads in parallel and one final: byte-identical', async () => {
  const t = await setup();
  try {
    const data = bytes(21 * MiB + 5, 4);
    const file = join(t.local, 'four.bin');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/.uploads/`, '-c', '4', '--quiet'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(t.srv, 'four.bin'))).equals(data));
    // Four partial creations and the final one.
    assert.equal(t.serverLog().match(/^POST \/\.uploads\/ 201/gm)?.length, 5);
  } finally {
    await t.cleanup();
  }
});

test('ranged put -c 4 with the IETF draft says once that it uses one connection', async () => {
  const t = await setup();
  try {
    const data = bytes(2 * MiB, 5);
    const file = join(t.local, 'one.bin');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/one.bin`, '-c', '4'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/one connection/g)?.length, 1, r.stderr);
    assert.ok((await readFile(join(t.srv, 'one.bin'))).equals(data));
  } finally {
    await t.cleanup();
  }
});

test('ranged put --chunk-checksum sends Upload-Checksum on every PATCH: byte-identical', async () => {
  const t = await setup();
  try {
    const data = bytes(17 * MiB, 6);
    const file = join(t.local, 'sum.bin');
    await writeFile(file, data);
    const r = await runPut(
      [file, `${t.url}/.uploads/`, '--chunk-checksum', '--name', 'sums/x.bin', '--quiet'],
      t.state,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(t.srv, 'sums/x.bin'))).equals(data));
  } finally {
    await t.cleanup();
  }
});

test('ranged put with a wrong token exits 3 with one line and no retry loop', async () => {
  const t = await setup();
  try {
    const file = join(t.local, 'x.bin');
    await writeFile(file, bytes(1000));
    for (const url of [`${t.url}/.uploads/`, `${t.url}/x.bin`]) {
      const r = await runPut([file, url, '--token', 'wrong-token-123'], t.state);
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /^ranged: Cannot create an upload at ".*": the token was refused \(401\)\n$/,
      );
    }
    assert.doesNotMatch(t.serverLog(), /^PATCH/m);
  } finally {
    await t.cleanup();
  }
});

test('ranged put with a missing FILE or a bad URL exits 2 with one line', async () => {
  const t = await setup();
  try {
    const missing = await runPut([join(t.local, 'nope.bin'), `${t.url}/.uploads/`], t.state);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^ranged: Cannot upload ".*nope\.bin": no such file\n$/);
    const file = join(t.local, 'x.bin');
    await writeFile(file, 'x');
    const bad = await runPut([file, 'ftp://example/x'], t.state);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^ranged: Cannot upload to "ftp:\/\/example\/x": not an http or https URL\n$/,
    );
    const proto = await runPut([file, `${t.url}/x`, '--protocol', 'ftp'], t.state);
    assert.equal(proto.code, 2);
  } finally {
    await t.cleanup();
  }
});

test('ranged put --help explains every option and the exit codes', async () => {
  const r = await runCli(['put', '--help']);
  assert.equal(r.code, 0);
  for (const flag of [
    '--token',
    '--name',
    '--protocol',
    '--connections',
    '--chunk-checksum',
    '--retries',
    '--limit-rate',
    '--quiet',
    'Exit codes',
    'RANGED_UPLOAD_TOKEN',
  ])
    assert.ok(r.stdout.includes(flag), flag);
  const top = await runCli(['--help']);
  assert.match(top.stdout, /put FILE URL/);
});

test('ranged put off a terminal is quiet: no progress lines, only the one line of the result', async () => {
  const t = await setup();
  try {
    const data = bytes(3 * MiB, 12);
    const file = join(t.local, 'quiet.bin');
    await writeFile(file, data);
    // Rate-limited so that progress is reported many times while it runs (about 1.5 s).
    const r = await runPut([file, `${t.url}/.uploads/`, '--limit-rate', '2M'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Uploaded ".*quiet\.bin" \(3\.0 MiB\) to http:\/\/\S+\n$/);
    assert.ok((await readFile(join(t.srv, 'quiet.bin'))).equals(data));
  } finally {
    await t.cleanup();
  }
});

test('ranged put --name to an IETF target says once that --name is for tus, and stores at the URL path', async () => {
  const t = await setup();
  try {
    const data = bytes(MiB + 3, 13);
    const file = join(t.local, 'n.bin');
    await writeFile(file, data);
    const r = await runPut([file, `${t.url}/music/n.wav`, '--name', 'elsewhere.wav'], t.state);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/--name applies to tus only/g)?.length, 1, r.stderr);
    assert.ok((await readFile(join(t.srv, 'music', 'n.wav'))).equals(data));
  } finally {
    await t.cleanup();
  }
});
