import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, UPLOAD_HELP, uploadOptions } from '../../src/cli/serve-uploads.js';

const durations: [string, number | 'error'][] = [
  ['2s', 2_000],
  ['90', 90_000], // plain seconds
  ['10m', 600_000],
  ['24h', 86_400_000],
  ['7d', 604_800_000],
  ['1500ms', 1_500],
  ['999ms', 'error'], // below 1 s: an expiry that short would end uploads mid-request
  ['0s', 'error'],
  ['-5s', 'error'],
  ['1.5h', 'error'],
  ['10 parsecs', 'error'],
  ['', 'error'],
  ['366d', 'error'],
];
for (const [text, expected] of durations) {
  test(`parseDuration() reads "${text}"`, () => {
    if (expected === 'error') {
      assert.throws(() => parseDuration('--upload-expires', text), /Cannot use --upload-expires/);
    } else {
      assert.equal(parseDuration('--upload-expires', text), expected);
    }
  });
}

test('uploadOptions() is undefined without --uploads, and refuses upload flags without it', () => {
  assert.equal(uploadOptions({}, {}), undefined);
  assert.throws(
    () => uploadOptions({ 'upload-token': 'abcdefgh1' }, {}),
    /Cannot use --upload-token without --uploads/,
  );
  assert.throws(
    () => uploadOptions({ 'max-upload-size': '1G' }, {}),
    /Cannot use --max-upload-size without --uploads/,
  );
});

test('uploadOptions() takes the token from the flag, then RANGED_UPLOAD_TOKEN, else makes one', () => {
  const flag = uploadOptions(
    { uploads: true, 'upload-token': 'from-flag-1' },
    { RANGED_UPLOAD_TOKEN: 'from-env-1' },
  );
  assert.deepEqual(flag, { options: { token: 'from-flag-1' }, generated: false });
  const env = uploadOptions({ uploads: true }, { RANGED_UPLOAD_TOKEN: 'from-env-1' });
  assert.deepEqual(env, { options: { token: 'from-env-1' }, generated: false });
  const made = uploadOptions({ uploads: true }, {});
  assert.equal(made?.generated, true);
  assert.match(made?.options.token ?? '', /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(uploadOptions({ uploads: true }, {})?.options.token, made?.options.token);
});

test('uploadOptions() refuses a short or spaced token, and reads the size and the expiry', () => {
  assert.throws(() => uploadOptions({ uploads: true, 'upload-token': 'short' }, {}), /8 to 512/);
  assert.throws(
    () => uploadOptions({ uploads: true, 'upload-token': 'has a space' }, {}),
    /8 to 512/,
  );
  const o = uploadOptions(
    {
      uploads: true,
      'upload-token': 'secret-123',
      'max-upload-size': '4G',
      'upload-expires': '10m',
    },
    {},
  );
  assert.deepEqual(o?.options, { token: 'secret-123', maxSize: 4 * 1024 ** 3, expires: 600_000 });
  assert.throws(
    () =>
      uploadOptions({ uploads: true, 'upload-token': 'secret-123', 'max-upload-size': 'lots' }, {}),
    /Cannot use --max-upload-size "lots"/,
  );
});

test('UPLOAD_HELP names every upload option', () => {
  for (const flag of [
    '--uploads',
    '--upload-token',
    '--max-upload-size',
    '--upload-expires',
    'RANGED_UPLOAD_TOKEN',
  ]) {
    assert.ok(UPLOAD_HELP.includes(flag), flag);
  }
});
