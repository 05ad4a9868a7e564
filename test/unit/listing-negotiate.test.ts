import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefersJson } from '../../src/server/listing/negotiate.js';

const accepts: [string | undefined, boolean][] = [
  [undefined, false],
  ['', false],
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['Application/JSON', true],
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
  ['*/*', false],
  ['application/json, text/plain, */*', true],
  ['text/html;q=0.5, application/json', true],
  ['text/html, application/json', false],
  ['application/json;q=0', false],
  ['text/*;q=0.3, application/json;q=0.5', true],
  ['application/*', false],
];
for (const [accept, json] of accepts) {
  test(`prefersJson() is ${json} for Accept ${JSON.stringify(accept)}`, () => {
    assert.equal(prefersJson(accept), json);
  });
}
