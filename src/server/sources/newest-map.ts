/**
 * A Map kept as a bounded cache: the newest entry last, the oldest dropped past a size. The S3
 * source's metadata, and the upload store's finished records and kept states, use it.
 */

/** Sets `key` to `value` as the newest entry of `map`; past `max` entries, the oldest goes. */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}
