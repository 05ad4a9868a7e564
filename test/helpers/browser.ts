/**
 * A real headless Chromium for end-to-end tests, driven by playwright-core. It uses the system
 * browser (Debian's /usr/bin/chromium, or RANGED_CHROMIUM); a missing browser fails the test with
 * a message, never skips it.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** The browser binary the tests drive. */
export const CHROMIUM = process.env.RANGED_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go (gitignored): `<repo>/test-artifacts/`. */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches headless Chromium and closes it after the test. */
export async function launchBrowser(t: { after(fn: () => unknown): void }): Promise<Browser> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch (cause) {
    throw new Error(
      `Cannot run the browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set RANGED_CHROMIUM)`,
      { cause },
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 30_000,
  });
  t.after(() => browser.close());
  return browser;
}

/** Makes sure the screenshot folder exists and returns the path for `name`. */
export async function artifact(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return `${ARTIFACTS}${name}`;
}

export { waitFor } from './wait.js';
