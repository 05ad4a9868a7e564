/**
 * Whether the store has room for one more upload (issue 12: "the number of unfinished uploads and
 * their total bytes have limits with clear errors; a full disk answers 507").
 */

export interface RoomFacts {
  /** Unfinished uploads now. */
  count: number;
  /** Bytes the unfinished uploads may still claim, the new one's declared length included. */
  claimed: number;
  /** Bytes free on the store's file system. */
  free: number;
}

export interface RoomLimits {
  maxUploads: number;
  maxPendingBytes: number | undefined;
}

/** Undefined when there is room; else the status (503 count, 507 bytes) and why. */
export function roomVerdict(
  facts: RoomFacts,
  limits: RoomLimits,
): { status: 503 | 507; reason: string } | undefined {
  // RFC 9110 §15.6.4: 503 for a temporary overload (a slot frees when an upload ends).
  if (facts.count >= limits.maxUploads) {
    return {
      status: 503,
      reason: `too many unfinished uploads (the limit is ${limits.maxUploads})`,
    };
  }
  // RFC 4918 §11.5: 507 when the server "is unable to store the representation".
  const max = limits.maxPendingBytes;
  if (max !== undefined && facts.claimed > max) {
    return { status: 507, reason: `unfinished uploads would hold more than ${max} bytes` };
  }
  if (facts.claimed > facts.free) {
    return { status: 507, reason: 'not enough free disk space for the upload' };
  }
  return undefined;
}
