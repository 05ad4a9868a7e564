import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeCorsOption } from '../../src/cli/serve.js';

const cases: [string[], { args: string[]; cors?: string }][] = [
  [['dir'], { args: ['dir'] }],
  [['--cors'], { args: [], cors: '*' }],
  // A word that is not an http(s) URL after --cors stays a positional argument.
  [['--cors', './dir'], { args: ['./dir'], cors: '*' }],
  [['--cors', 'dir', '-p', '0'], { args: ['dir', '-p', '0'], cors: '*' }],
  [['dir', '--cors', 'http://a.example'], { args: ['dir'], cors: 'http://a.example' }],
  [['--cors', 'HTTPS://a.example:8443', 'dir'], { args: ['dir'], cors: 'HTTPS://a.example:8443' }],
  [['--cors', '--quiet'], { args: ['--quiet'], cors: '*' }],
  [['--cors=https://a.example', 'dir'], { args: ['dir'], cors: 'https://a.example' }],
  [['--cors=*'], { args: [], cors: '*' }],
  [['--cors', '--cors', 'http://b.example'], { args: [], cors: 'http://b.example' }],
  [['--', '--cors'], { args: ['--', '--cors'] }],
];
for (const [argv, expected] of cases) {
  test(`takeCorsOption() reads ${JSON.stringify(argv)}`, () => {
    assert.deepEqual(takeCorsOption(argv), expected);
  });
}
