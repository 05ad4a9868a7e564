import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Retries, retryDecision } from '../../src/client/engine/retry.js';
import { StatusFailure } from '../../src/client/engine/stops.js';
import {
  HttpStatusError,
  NetworkError,
  ProtocolError,
  RemoteChangedError,
  SizeLimitError,
} from '../../src/errors.js';

const policy = { baseDelay: 500, maxDelay: 30_000, random: () => 0.5 };
const status = (code: number, retryAfterMs?: number) =>
  new StatusFailure(
    `the server answered ${code}`,
    { status: code, url: 'http://x/' },
    retryAfterMs,
  );
const errno = (code: string) => Object.assign(new Error(code), { code });

const cases: [string, unknown, number, ReturnType<typeof retryDecision>['kind'], string?][] = [
  ['a network failure', new NetworkError('reset'), 1, 'retry'],
  ['a 503', status(503), 1, 'retry'],
  ['a 429', status(429), 3, 'retry'],
  ['a 408', status(408), 1, 'retry'],
  ['a bare ECONNRESET', errno('ECONNRESET'), 1, 'retry'],
  ['a 404', status(404), 1, 'give-up', 'not-retryable'],
  [
    'a plain HttpStatusError 403',
    new HttpStatusError('no', { status: 403, url: '' }),
    1,
    'give-up',
  ],
  ['a protocol error', new ProtocolError('bad 206'), 1, 'give-up', 'not-retryable'],
  ['a remote change', new RemoteChangedError('etag'), 1, 'give-up', 'not-retryable'],
  ['a size limit', new SizeLimitError('big', { limit: 1, size: 2 }), 1, 'give-up', 'not-retryable'],
  ['an ENOSPC', errno('ENOSPC'), 1, 'give-up', 'not-retryable'],
  ['the attempt after the last retry', new NetworkError('reset'), 4, 'give-up', 'exhausted'],
];

for (const [name, error, attempt, kind, reason] of cases) {
  test(`retryDecision() on ${name} (attempt ${attempt} of 3 retries): ${kind}`, () => {
    const decision = retryDecision(error, attempt, { limit: 3, policy });
    assert.equal(decision.kind, kind);
    if (reason !== undefined && decision.kind === 'give-up') assert.equal(decision.reason, reason);
  });
}

test('retryDecision() waits the backoff, or the Retry-After within maxDelay', () => {
  const at = (error: unknown, attempt: number) => {
    const d = retryDecision(error, attempt, { limit: 10, policy });
    return d.kind === 'retry' ? d.delay : undefined;
  };
  const first = at(new NetworkError('x'), 1) as number;
  const third = at(new NetworkError('x'), 3) as number;
  assert.ok(first > 0 && third > first, `${first} then ${third}: growing`);
  assert.equal(at(status(503, 2_000), 1), 2_000);
  assert.equal(at(status(503, 3_600_000), 1), 30_000);
});

/** A Retries whose clock is fake: sleeping records the wait and returns at once. */
function fake(limit: number) {
  const slept: number[] = [];
  const notices: string[] = [];
  const retries = new Retries({
    limit,
    policy,
    notice: (m) => notices.push(m),
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { retries, slept, notices };
}

test('Retries.after() waits and reports each retry, then gives up with the count', async () => {
  const { retries, slept, notices } = fake(2);
  const signal = new AbortController().signal;
  const error = new NetworkError('Cannot download "u": connection reset');
  await retries.after(error, signal);
  await retries.after(error, signal);
  await assert.rejects(retries.after(error, signal), (e: unknown) => {
    assert.equal(e, error);
    assert.match((e as Error).message, /connection reset \(after 2 retries\)$/);
    return true;
  });
  assert.equal(slept.length, 2);
  assert.match(
    notices[0] ?? '',
    /^Cannot download "u": connection reset; retrying in \d+\.\d s \(1\/2\)$/,
  );
  assert.match(notices[1] ?? '', /\(2\/2\)$/);
});

test('Retries.progressed() starts the count again', async () => {
  const { retries, slept } = fake(1);
  const signal = new AbortController().signal;
  await retries.after(new NetworkError('x'), signal);
  retries.progressed();
  await retries.after(new NetworkError('x'), signal);
  assert.equal(slept.length, 2);
  await assert.rejects(retries.after(new NetworkError('x'), signal), NetworkError);
});

test('Retries.after() throws an error that is not worth retrying at once, unchanged', async () => {
  const { retries, slept } = fake(5);
  const error = status(404);
  await assert.rejects(retries.after(error, new AbortController().signal), (e: unknown) => {
    assert.equal(e, error);
    assert.equal(error.message, 'the server answered 404');
    return true;
  });
  assert.deepEqual(slept, []);
});

test('Retries.after() stops with the signal reason when aborted during the wait', async () => {
  const controller = new AbortController();
  const reason = new Error('paused');
  const retries = new Retries({
    limit: 5,
    policy,
    notice: () => undefined,
    sleep: async () => {
      controller.abort(reason);
      throw new DOMException('The operation was aborted', 'AbortError');
    },
  });
  await assert.rejects(
    retries.after(new NetworkError('x'), controller.signal),
    (e) => e === reason,
  );
});
