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

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`Cannot continue: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}
