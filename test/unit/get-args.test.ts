import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attachNegativeNumbers,
  outputName,
  parseArgsMessage,
  parseCount,
  parseHeaders,
  parseRate,
  parseSize,
} from '../../src/cli/get-args.js';
import { parseChecksum } from '../../src/client/store/checksum.js';
import { UsageError } from '../../src/errors.js';

const nameCases: [string, string][] = [
  ['http://example.com/big.iso', 'big.iso'],
  ['http://example.com/dir/file.tar.gz?x=1#y', 'file.tar.gz'],
  ['http://example.com/a%20b.txt', 'a b.txt'],
  ['http://example.com/', 'index.html'],
  ['http://example.com', 'index.html'],
  ['http://example.com/dir/', 'index.html'],
  ['http://example.com/%2e%2e', 'index.html'],
  ['http://example.com/a%2fb', 'a_b'],
  ['http://example.com/a%5cb', 'a_b'],
  ['http://example.com/x%00y', 'x_y'],
  ['http://example.com/%E0%A4%A', '%E0%A4%A'],
];
for (const [url, expected] of nameCases) {
  test(`outputName() names ${url} "${expected}"`, () => {
    assert.equal(outputName(url), expected);
  });
}

const rateCases: [string, number | undefined][] = [
  ['500', 500],
  ['500K', 512_000],
  ['500k', 512_000],
  ['2M', 2 * 1024 * 1024],
  ['1.5M', 1_572_864],
  ['1G', 1024 ** 3],
  ['2MB', 2 * 1024 * 1024],
  ['2MiB', 2 * 1024 * 1024],
  ['2M/s', 2 * 1024 * 1024],
  ['0', undefined],
  ['-1K', undefined],
  ['fast', undefined],
  ['', undefined],
];
for (const [text, expected] of rateCases) {
  test(`parseRate() reads ${JSON.stringify(text)}`, () => {
    if (expected === undefined) assert.throws(() => parseRate(text), UsageError);
    else assert.equal(parseRate(text), expected);
  });
}

const GiB = 1024 ** 3;
const sizeCases: [string, number | undefined][] = [
  ['1', 1],
  ['1048576', 1024 * 1024],
  ['1M', 1024 * 1024],
  ['1m', 1024 * 1024],
  ['1.5K', 1536],
  ['64G', 64 * GiB],
  ['64GB', 64 * GiB],
  ['64GiB', 64 * GiB],
  ['64gib', 64 * GiB],
  ['64 GiB', 64 * GiB],
  ['2T', 2 * 1024 * GiB],
  ['2TiB', 2 * 1024 * GiB],
  ['100b', 100],
  [' 5M ', 5 * 1024 * 1024],
  ['99999999999T', Number.MAX_SAFE_INTEGER],
  ['0', undefined],
  ['0K', undefined],
  ['0.5', undefined],
  ['-1', undefined],
  ['-1M', undefined],
  ['+1M', undefined],
  ['1e6', undefined],
  ['0x10', undefined],
  ['1M/s', undefined],
  ['1iB', undefined],
  ['1X', undefined],
  ['1 MiB extra', undefined],
  ['big', undefined],
  ['', undefined],
];
for (const [text, expected] of sizeCases) {
  test(`parseSize() reads ${JSON.stringify(text)}`, () => {
    if (expected === undefined) {
      assert.throws(() => parseSize(text), {
        name: 'UsageError',
        message: `Cannot use --max-size ${JSON.stringify(text)}: expected a size of at least 1 byte, such as 500M, 64G or 64GiB`,
      });
    } else assert.equal(parseSize(text), expected);
  });
}

const sha = 'a'.repeat(64);
const checksumCases: [string, ReturnType<typeof parseChecksum> | undefined][] = [
  [`sha256:${sha}`, { algorithm: 'sha256', hex: sha }],
  [`SHA256:${sha.toUpperCase()}`, { algorithm: 'sha256', hex: sha }],
  [`sha-256=${sha}`, { algorithm: 'sha256', hex: sha }],
  [`md5:${'0'.repeat(32)}`, { algorithm: 'md5', hex: '0'.repeat(32) }],
  [`sha1:${'0'.repeat(40)}`, { algorithm: 'sha1', hex: '0'.repeat(40) }],
  [`sha512:${'0'.repeat(128)}`, { algorithm: 'sha512', hex: '0'.repeat(128) }],
  [`sha256:${'a'.repeat(63)}`, undefined],
  [`crc32:${'a'.repeat(8)}`, undefined],
  [sha, undefined],
  ['sha256:xyz', undefined],
];
for (const [spec, expected] of checksumCases) {
  test(`parseChecksum() reads ${spec.slice(0, 20)}…`, () => {
    if (expected === undefined) assert.throws(() => parseChecksum(spec), UsageError);
    else assert.deepEqual(parseChecksum(spec), expected);
  });
}

const countCases: [string, string, number, RegExp | number][] = [
  ['--connections', '4', 1, 4],
  ['--connections', '-1', 1, /"-1": must be a positive integer from 1 to 64/],
  ['--connections', '0', 1, /must be a positive integer/],
  ['--connections', '1.5', 1, /must be a positive integer/],
  ['--retries', '0', 0, 0],
  ['--retries', '-3', 0, /"-3": must be a non-negative integer from 0 to 64/],
];
for (const [name, text, min, expected] of countCases) {
  test(`parseCount() reads ${name} ${text}`, () => {
    if (typeof expected === 'number') assert.equal(parseCount(name, text, min, 64), expected);
    else
      assert.throws(() => parseCount(name, text, min, 64), {
        name: 'UsageError',
        message: expected,
      });
  });
}

const attachCases: [string[], string[]][] = [
  [
    ['-c', '-1', 'u'],
    ['-c-1', 'u'],
  ],
  [['--retries', '-3'], ['--retries=-3']],
  [['--retries=-3'], ['--retries=-3']],
  [
    ['-c', '2', '-q'],
    ['-c', '2', '-q'],
  ],
  [
    ['-o', '-x'],
    ['-o', '-x'],
  ],
  [
    ['--', '-c', '-1'],
    ['--', '-c', '-1'],
  ],
];
for (const [args, expected] of attachCases) {
  test(`attachNegativeNumbers() turns ${args.join(' ')} into ${expected.join(' ')}`, () => {
    assert.deepEqual(attachNegativeNumbers(args), expected);
  });
}

test('parseArgsMessage() names the subcommand help in one line', () => {
  assert.equal(
    parseArgsMessage(
      "Unknown option '--foo'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--foo\"",
      'get',
    ),
    "Unknown option '--foo'. See 'ranged get --help'.",
  );
  assert.equal(
    parseArgsMessage("Option '-o, --output <value>' argument missing", 'serve'),
    "Option '-o, --output <value>' argument missing. See 'ranged serve --help'.",
  );
});

test('parseHeaders() merges repeated -H and refuses a bad one in one line', () => {
  assert.deepEqual(parseHeaders(['A: 1', 'a: 2', 'B:3']), { A: '1, 2', B: '3' });
  assert.throws(() => parseHeaders(['Range: bytes=0-']), {
    name: 'UsageError',
    message: /^Cannot use --header "Range: bytes=0-": Range cannot be set/,
  });
  assert.throws(() => parseHeaders(['nocolon']), { message: /has no colon/ });
});
