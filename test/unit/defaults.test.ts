import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, UPLOAD_DEFAULTS } from '../../src/client/engine/defaults.js';
import { resolveSettings } from '../../src/client/engine/settings.js';

// Runs from dist/test/unit; the sources are read from the repository.
const types = readFileSync(
  fileURLToPath(new URL('../../../src/client/types.ts', import.meta.url)),
  'utf8',
);
const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The value the `@default` of option `name` in types.ts states ("64 GiB", "30_000", "1 MiB"). */
function documented(name: string): number | undefined {
  const m = new RegExp(`@default ([0-9_]+)(?: (KiB|MiB|GiB))?[^*]*\\*/\\s*${name}\\?:`).exec(types);
  if (m === null) return undefined;
  return Number((m[1] ?? '').replaceAll('_', '')) * (m[2] === undefined ? 1 : (UNITS[m[2]] ?? 0));
}

for (const [name, value] of Object.entries(DEFAULTS)) {
  test(`DownloadOptions.${name} documents @default ${value}, the value DEFAULTS declares`, () => {
    assert.equal(documented(name), value);
  });
}

test('resolveSettings() fills in every default from DEFAULTS', () => {
  const settings = resolveSettings('http://x/', { output: 'o' }) as unknown as Record<
    string,
    unknown
  >;
  // The retry policy's two are read by the loop itself (they are needed before the options are
  // checked); every other default is a setting.
  const policy = new Set(['retryDelay', 'maxRetryDelay']);
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (!policy.has(name)) assert.equal(settings[name], value, name);
  }
});

// The upload options: their `@default` tags in UploadOptions name UPLOAD_DEFAULTS' values.
const uploadTypes = types.slice(types.indexOf('export interface UploadOptions'));
for (const [name, value] of Object.entries(UPLOAD_DEFAULTS)) {
  test(`UploadOptions.${name} documents @default ${value}, the value UPLOAD_DEFAULTS declares`, () => {
    const m = new RegExp(`@default ([0-9_]+)(?: (KiB|MiB|GiB))?[^*]*\\*/\\s*${name}\\?:`).exec(
      uploadTypes,
    );
    assert.ok(m, name);
    const unit = m[2] === undefined ? 1 : (UNITS[m[2]] ?? 0);
    assert.equal(Number((m[1] ?? '').replaceAll('_', '')) * unit, value);
  });
}
