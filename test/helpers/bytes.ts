/** Deterministic test bytes in which byte i depends on i, so a misplaced slice shows up. */
export function bytes(length: number, seed = 0): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 7 + (i >> 8) + (i >> 16) * 13 + seed) & 0xff;
  return buf;
}
