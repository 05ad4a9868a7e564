/**
 * The boot id of this machine (Linux: /proc/sys/kernel/random/boot_id), read once. A download's
 * live journal (core `liveVerdict()`) and an upload's bytes past its synced offset (core
 * `claimableOffset()`) are trusted only in the boot that wrote them: the page cache keeps what a
 * killed process wrote, a crash of the machine does not, and it boots anew.
 */
import { readFileSync } from 'node:fs';

let cached: { id: string | undefined } | undefined;

/** The current boot id, or undefined where the system does not tell (then every save syncs). */
export function bootId(): string | undefined {
  if (cached === undefined) {
    let id: string | undefined;
    try {
      id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      id = undefined;
    }
    cached = { id };
  }
  return cached.id;
}
