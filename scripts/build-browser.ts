/**
 * `npm run build`, after the two tsc runs: bundles the listing page's script (emitted by
 * tsconfig.browser.json into dist/browser/) into dist/src/server/listing/page.bundle.js, which the
 * server inlines into the page and hashes for its Content-Security-Policy (listing/assets.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleModules } from './bundle.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const from = `${root}dist/browser/`;
const to = `${root}dist/src/server/listing/page.bundle.js`;
const text = bundleModules('browser/page.js', (path) => readFileSync(`${from}${path}`, 'utf8'));
writeFileSync(to, text);
process.stdout.write(`Bundled the listing page script: ${to} (${text.length} characters)\n`);
