/** `ranged serve --uploads`: the command line contract of the upload options (issue 12). */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startServeCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';

async function tusCreate(url: string, token: string, filename: string, body: string) {
  return fetch(`${url}/.uploads/`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      Authorization: `Bearer ${token}`,
      'Upload-Length': String(Buffer.byteLength(body)),
      'Upload-Metadata': `filename ${Buffer.from(filename).toString('base64')}`,
      'Content-Type': 'application/offset+octet-stream',
    },
    body,
  });
}

test('ranged serve --upload-token without --uploads is a usage error (exit 2, one line)', async () => {
  const tree = await makeTree({});
  try {
    for (const flags of [
      ['--upload-token', 'abcdefgh12'],
      ['--max-upload-size', '1G'],
      ['--upload-expires', '1h'],
    ]) {
      const r = await runCli(['serve', tree.dir, '--port', '0', ...flags]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^ranged: Cannot use ${flags[0]} without --uploads\\n$`));
    }
    const bad = await runCli([
      'serve',
      tree.dir,
      '--port',
      '0',
      '--uploads',
      '--upload-expires',
      'soon',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Cannot use --upload-expires "soon"/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /); // no stack trace
  } finally {
    await tree.cleanup();
  }
});

test('ranged serve --help documents every upload option', async () => {
  const r = await runCli(['serve', '--help']);
  assert.equal(r.code, 0);
  for (const flag of [
    '--uploads',
    '--upload-token TOKEN',
    '--max-upload-size SIZE',
    '--upload-expires DURATION',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('ranged serve --uploads without a token makes one, prints it once, and only it is accepted', async (t) => {
  const tree = await makeTree({});
  t.after(tree.cleanup);
  const env = { ...process.env };
  delete env.RANGED_UPLOAD_TOKEN;
  const { child, url, stderr } = await startServeCli(tree.dir, ['--uploads', '--quiet'], { env });
  t.after(() => child.kill('SIGKILL'));
  await waitFor('the token line', () => /upload token: \S+\n/.test(stderr()));
  const lines = stderr()
    .split('\n')
    .filter((l) => l.includes('upload token'));
  assert.equal(lines.length, 1);
  const token = /upload token: (\S+)/.exec(lines[0] ?? '')?.[1] ?? '';
  assert.ok(token.length >= 16, token);

  const wrong = await tusCreate(url, `${token}x`, 'a.txt', 'hello');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
  const right = await tusCreate(url, token, 'a.txt', 'hello');
  assert.equal(right.status, 201);
  assert.equal(right.headers.get('upload-offset'), '5');
  assert.equal(await readFile(join(tree.dir, 'a.txt'), 'utf8'), 'hello');
});

test('ranged serve --uploads takes the token from RANGED_UPLOAD_TOKEN and prints no token', async (t) => {
  const tree = await makeTree({});
  t.after(tree.cleanup);
  const env = { ...process.env, RANGED_UPLOAD_TOKEN: 'env-token-123' };
  const { child, url, stderr } = await startServeCli(tree.dir, ['--uploads', '--quiet'], { env });
  t.after(() => child.kill('SIGKILL'));
  const res = await tusCreate(url, 'env-token-123', 'b.txt', 'bytes');
  assert.equal(res.status, 201);
  assert.equal(await readFile(join(tree.dir, 'b.txt'), 'utf8'), 'bytes');
  assert.doesNotMatch(stderr(), /upload token/);
});
