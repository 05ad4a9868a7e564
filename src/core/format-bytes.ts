/**
 * One way to write a byte count for people, shared by the CLI (`ranged get` progress and messages)
 * and the folder listing, so the same file shows the same size everywhere.
 */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/**
 * A byte count in IEC binary units (1 KiB = 1024 B), the convention the CLI's K/M/G/T suffixes
 * (`--limit-rate 500K`, `--max-size 1G`) already use: `0 B`, `1023 B`, `1.0 KiB`, `99.9 KiB`,
 * `100 KiB`, `3.3 MiB`. One decimal below 100 of a unit and none from 100 on, so a size never
 * takes more than four digits; the digits are decided on the rounded value (1023.96 KiB shows as
 * `1.0 MiB`, not `1024.0 KiB`).
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  for (let unit = 0; ; unit++) {
    const text = value.toFixed(value < 99.95 ? 1 : 0);
    if (Number(text) < 1024 || unit === UNITS.length - 1) return `${text} ${UNITS[unit]}`;
    value /= 1024;
  }
}
