/**
 * The listing page's stylesheet and script, and the Content-Security-Policy that allows exactly
 * them. Both are inlined into the page, so ranged serves every byte the page needs (no CDN), and
 * the policy names the two texts by their SHA-256 hashes: no nonce, no randomness, and an
 * injected <script> cannot run.
 *
 * The script is browser/page.ts with the model modules it imports, compiled with DOM types and
 * bundled by the build (scripts/build-browser.ts) next to this module; it is read and hashed once,
 * on the first listing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LISTING_CSS } from './style.js';

/** Where `npm run build` writes the page's script. */
export const SCRIPT_PATH = fileURLToPath(new URL('./page.bundle.js', import.meta.url));

export interface ListingAssets {
  /** Stylesheet text for the page's <style> element. */
  css: string;
  /** Script text for the page's <script> element. */
  script: string;
  /** The Content-Security-Policy header value for the page. */
  csp: string;
  /** The same with uploads on: the page's uploader may also fetch() from its own origin. */
  uploadCsp: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

let assets: ListingAssets | undefined;

/** The page's stylesheet, script and CSP (read and hashed on the first call). */
export function listingAssets(): ListingAssets {
  if (assets !== undefined) return assets;
  let script: string;
  try {
    script = readFileSync(SCRIPT_PATH, 'utf8');
  } catch (cause) {
    throw new Error(`Cannot render a listing: no page script at ${SCRIPT_PATH} (npm run build)`, {
      cause,
    });
  }
  // Nothing loads or runs but the inline stylesheet and script (by hash), same-origin media and
  // images, and data: images (the favicon).
  const csp = [
    "default-src 'none'",
    `style-src ${sha256(LISTING_CSS)}`,
    `script-src ${sha256(script)}`,
    "img-src 'self' data:",
    "media-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  assets = { css: LISTING_CSS, script, csp, uploadCsp: `${csp}; connect-src 'self'` };
  return assets;
}
