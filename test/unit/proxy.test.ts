/** core/proxy.ts: the proxy variables as curl reads them, NO_PROXY, and the answer to CONNECT. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bypassesProxy, connectVerdict, parseProxy, proxyFor } from '../../src/core/proxy.js';

const noProxyCases: [string, string, number, string, boolean][] = [
  ['* matches every host', 'example.com', 443, '*', true],
  ['a name matches itself', 'example.com', 443, 'example.com', true],
  ['a name matches a subdomain', 'www.example.com', 443, 'example.com', true],
  ['a leading dot matches a subdomain', 'www.example.com', 443, '.example.com', true],
  ['a leading dot matches the name itself (as curl)', 'example.com', 443, '.example.com', true],
  ['a name never matches a longer name', 'notexample.com', 443, 'example.com', false],
  ['another name does not match', 'example.org', 443, 'example.com', false],
  ['case is ignored', 'WWW.Example.COM', 443, 'example.com', true],
  ['a final dot is ignored', 'example.com.', 443, 'example.com', true],
  ['the list is split at commas and spaces', 'b.test', 80, 'a.test, b.test', true],
  ['an entry with the port matches that port', 'a.test', 8080, 'a.test:8080', true],
  ['an entry with another port does not match', 'a.test', 443, 'a.test:8080', false],
  ['an IPv4 address matches itself', '127.0.0.1', 80, '127.0.0.1', true],
  ['an IPv4 address is not a suffix match', '10.0.0.1', 80, '0.0.1', false],
  ['an IPv4 block matches inside it', '192.168.4.5', 80, '192.168.0.0/16', true],
  ['an IPv4 block does not match outside it', '192.169.4.5', 80, '192.168.0.0/16', false],
  ['an IPv6 address in brackets', '[::1]', 80, '::1', true],
  ['an IPv6 entry in brackets with a port', '[::1]', 8080, '[::1]:8080', true],
  ['an empty list matches nothing', 'a.test', 80, '', false],
  ['a lone * among others is still *', 'a.test', 80, 'b.test,*', true],
];
for (const [name, host, port, list, expected] of noProxyCases) {
  test(`bypassesProxy(): ${name} (${host}:${port} against "${list}")`, () => {
    assert.equal(bypassesProxy(host, port, list), expected);
  });
}

const env = (vars: Record<string, string>) => vars;
const chooseCases: [string, string, Record<string, string>, string | undefined][] = [
  ['no variable: direct', 'https://a.test/f', env({}), undefined],
  [
    'https uses HTTPS_PROXY',
    'https://a.test/f',
    env({ HTTPS_PROXY: 'http://p:3128' }),
    'http://p:3128',
  ],
  [
    'http uses HTTP_PROXY',
    'http://a.test/f',
    env({ HTTP_PROXY: 'http://p:3128' }),
    'http://p:3128',
  ],
  ['https ignores HTTP_PROXY', 'https://a.test/f', env({ HTTP_PROXY: 'http://p:3128' }), undefined],
  ['http ignores HTTPS_PROXY', 'http://a.test/f', env({ HTTPS_PROXY: 'http://p:3128' }), undefined],
  [
    'lower case wins over upper case',
    'http://a.test/f',
    env({ http_proxy: 'http://low:1', HTTP_PROXY: 'http://up:2' }),
    'http://low:1',
  ],
  [
    'an empty value is unset',
    'https://a.test/f',
    env({ https_proxy: '', HTTPS_PROXY: 'http://up:2' }),
    'http://up:2',
  ],
  ['no scheme means http://', 'https://a.test/f', env({ HTTPS_PROXY: 'p:3128' }), 'http://p:3128'],
  [
    'no port means 1080 (as curl)',
    'https://a.test/f',
    env({ HTTPS_PROXY: 'http://p' }),
    'http://p:1080',
  ],
  [
    'NO_PROXY sends a named host direct',
    'https://a.test/f',
    env({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.test' }),
    undefined,
  ],
  [
    'no_proxy wins over NO_PROXY',
    'https://a.test/f',
    env({ HTTPS_PROXY: 'http://p:1', no_proxy: 'b.test', NO_PROXY: 'a.test' }),
    'http://p:1',
  ],
  [
    'NO_PROXY with the default port of the scheme',
    'https://a.test/f',
    env({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.test:443' }),
    undefined,
  ],
];
for (const [name, url, vars, expected] of chooseCases) {
  test(`proxyFor(): ${name}`, () => {
    const choice = proxyFor(new URL(url), vars);
    if (expected === undefined) assert.deepEqual(choice, { kind: 'direct' });
    else {
      assert.equal(choice.kind, 'proxy');
      assert.equal(choice.kind === 'proxy' ? choice.proxy.display : '', expected);
    }
  });
}

test('parseProxy() turns user:pass@ into Basic credentials (percent-decoded, RFC 7617)', () => {
  const choice = parseProxy('http://us%40er:p%3Ass@proxy:3128', 'HTTPS_PROXY');
  assert.deepEqual(choice, {
    kind: 'proxy',
    proxy: {
      host: 'proxy',
      port: 3128,
      authorization: `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`,
      display: 'http://proxy:3128',
      variable: 'HTTPS_PROXY',
    },
  });
});

const invalidCases: [string, RegExp][] = [
  ['https://p:443', /"https:\/\/" proxies are not supported/],
  ['socks5://p:1080', /"socks5:\/\/" proxies are not supported/],
  ['http://', /not a URL|no host/],
  ['http://p:99999', /not a URL/],
];
for (const [value, reason] of invalidCases) {
  test(`parseProxy() refuses ${value}`, () => {
    const choice = parseProxy(value, 'HTTPS_PROXY');
    assert.equal(choice.kind, 'invalid');
    assert.match(choice.kind === 'invalid' ? choice.reason : '', reason);
  });
}

const connectCases: [string, ReturnType<typeof connectVerdict>][] = [
  ['HTTP/1.1 200 Connection established', { kind: 'tunnel' }],
  ['HTTP/1.0 200 OK\r\nProxy-Agent: x', { kind: 'tunnel' }],
  [
    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic',
    { kind: 'refused', status: 407, reason: 'Proxy Authentication Required' },
  ],
  ['HTTP/1.1 403 Forbidden', { kind: 'refused', status: 403, reason: 'Forbidden' }],
  ['HTTP/1.1 502', { kind: 'refused', status: 502, reason: '' }],
  ['SSH-2.0-OpenSSH', { kind: 'invalid' }],
];
for (const [head, expected] of connectCases) {
  test(`connectVerdict() reads "${head.split('\r\n')[0]}" (RFC 9110 §9.3.6)`, () => {
    assert.deepEqual(connectVerdict(head), expected);
  });
}
