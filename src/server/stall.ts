/**
 * The send timeout's test, shared by HTTP/1 connections and HTTP/2 streams: a sender with bytes
 * waiting for its client, and no byte taken since it was last looked at, for `timeout` ms.
 */
export interface StallMark {
  /** Bytes waiting and bytes handed when last looked at; '' when nothing was waiting. */
  mark: string;
  /** When the mark last changed. */
  since: number;
}

/** Records what is `waiting` and `handed` now; true once that has not moved for `timeout` ms. */
export function stalledFor(
  entry: StallMark,
  waiting: number,
  handed: number,
  at: number,
  timeout: number,
): boolean {
  if (waiting === 0) {
    entry.mark = '';
    return false;
  }
  const mark = `${waiting}:${handed}`;
  if (mark !== entry.mark) {
    entry.mark = mark;
    entry.since = at;
    return false;
  }
  return at - entry.since >= timeout;
}
