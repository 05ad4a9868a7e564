/** engine/settings.ts `resolveSettings()`: the new options are checked before anything is sent. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings } from '../../src/client/engine/settings.js';

const URL = 'http://x.test/f';

const refused: [string, Record<string, unknown>, RegExp][] = [
  [
    'a header named Range',
    { headers: { Range: 'bytes=0-' } },
    /^Cannot send header Range: Range cannot be set/,
  ],
  ['a header value with CR LF', { headers: { 'X-A': 'a\r\nB: 1' } }, /control character/],
  ['a header name with a space', { headers: { 'X A': '1' } }, /not a valid field name/],
  [
    'a ca without a certificate',
    { ca: 'junk' },
    /^Cannot use the CA certificates: no PEM certificate found$/,
  ],
  [
    'a socks proxy',
    { proxyEnv: { ALL: 'x', https_proxy: 'socks5://p:1' } },
    /^Cannot use https_proxy: "socks5:\/\/" proxies/,
  ],
  [
    'a proxy that is not a URL',
    { proxyEnv: { HTTP_PROXY: 'http://[' } },
    /^Cannot use HTTP_PROXY: "http:\/\/\[" is not a URL$/,
  ],
];
for (const [name, options, message] of refused) {
  test(`resolveSettings() refuses ${name} with a UsageError`, () => {
    assert.throws(() => resolveSettings(URL, { output: 'o', ...options }), {
      name: 'UsageError',
      message,
    });
  });
}

test('resolveSettings() keeps checked headers, the TLS choices and the proxy variables', () => {
  const env = { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'x.test' };
  const s = resolveSettings(URL, {
    output: 'o',
    headers: { 'X-A': ' 1 ' },
    insecure: true,
    proxyEnv: env,
  });
  assert.deepEqual(s.headers, { 'X-A': '1' });
  assert.deepEqual(s.tls, { insecure: true, ca: undefined });
  assert.equal(s.proxyEnv, env);
});
