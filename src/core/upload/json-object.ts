/**
 * What the upload codecs (record.ts, s3-state.ts) share: the object a stored JSON text holds, and
 * the check of a count field. Pure.
 */

/** The object `text` holds as JSON, or undefined when it holds none (a torn or foreign file). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  return value as Record<string, unknown>;
}

/** Whether `n` is a whole number of 0 or more (a size, an offset, a time in ms). */
export function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
