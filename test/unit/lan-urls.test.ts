import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InterfaceAddress, isEveryInterface, lanUrls } from '../../src/core/lan-urls.js';

/** What os.networkInterfaces() says on a laptop on Wi-Fi and a container bridge. */
const LAPTOP: Record<string, InterfaceAddress[]> = {
  lo: [
    { address: '127.0.0.1', family: 'IPv4', internal: true },
    { address: '::1', family: 'IPv6', internal: true },
  ],
  wlan0: [
    { address: '192.168.1.23', family: 'IPv4', internal: false },
    { address: '2001:db8::23', family: 'IPv6', internal: false },
    { address: 'fe80::1c2b:3aff:fe4d:5e6f', family: 'IPv6', internal: false },
  ],
  docker0: [{ address: '172.17.0.1', family: 4, internal: false }],
};

const cases: [string, Record<string, InterfaceAddress[] | undefined>, string, string[]][] = [
  [
    '0.0.0.0: every non-internal IPv4 address',
    LAPTOP,
    '0.0.0.0',
    ['http://192.168.1.23:8080/', 'http://172.17.0.1:8080/'],
  ],
  // Node listens dual-stack on ::, so IPv4 clients reach it too; link-local fe80:: needs a zone
  // index that browsers do not take in a URL (RFC 4291 §2.5.6).
  [
    '::: IPv4 first, then global IPv6 in brackets (RFC 3986 §3.2.2), no link-local',
    LAPTOP,
    '::',
    ['http://192.168.1.23:8080/', 'http://172.17.0.1:8080/', 'http://[2001:db8::23]:8080/'],
  ],
  ['127.0.0.1: not every interface, no URL', LAPTOP, '127.0.0.1', []],
  ['192.168.1.23: one address, no list', LAPTOP, '192.168.1.23', []],
  ['0.0.0.0 on a machine with loopback only: none', { lo: LAPTOP.lo }, '0.0.0.0', []],
  ['an interface listed without addresses is skipped', { eth0: undefined }, '::', []],
  [
    'an address on two interfaces is listed once',
    {
      a: [{ address: '10.0.0.2', family: 'IPv4', internal: false }],
      b: [{ address: '10.0.0.2', family: 'IPv4', internal: false }],
    },
    '0.0.0.0',
    ['http://10.0.0.2:8080/'],
  ],
];
for (const [name, interfaces, host, expected] of cases) {
  test(`lanUrls() ${name}`, () => {
    assert.deepEqual(lanUrls(interfaces, { host, port: 8080 }), expected);
  });
}

test('lanUrls() uses https with TLS', () => {
  assert.deepEqual(lanUrls(LAPTOP, { host: '0.0.0.0', port: 8443, scheme: 'https' }), [
    'https://192.168.1.23:8443/',
    'https://172.17.0.1:8443/',
  ]);
});

for (const [host, expected] of [
  ['0.0.0.0', true],
  ['::', true],
  ['[::]', true],
  ['::0', true],
  ['0', true],
  ['127.0.0.1', false],
  ['::1', false],
  ['localhost', false],
] as const) {
  test(`isEveryInterface() says ${expected} for ${host}`, () => {
    assert.equal(isEveryInterface(host), expected);
  });
}
