/**
 * The one check of a transfer's URL, for `download()` and `upload()` alike: a URL that parses,
 * with the http or https scheme. A small module of its own, so that neither direction loads the
 * other's settings to use it.
 */
import { UsageError } from '../../errors.js';

/** `url` parsed; a UsageError starting with `cannot` (`Cannot download "…"`) otherwise. */
export function checkHttpUrl(url: string, cannot: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${cannot}: not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`${cannot}: only http and https URLs are supported`);
  return parsed;
}
