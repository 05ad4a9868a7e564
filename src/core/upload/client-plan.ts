/**
 * The upload client's decisions (`ranged put`, `upload()`), pure: which protocol a server speaks,
 * what to do after each answer to a PATCH, HEAD or creation, which checksum to send, how to split
 * a file over parallel tus uploads, where to sample a file's digest and whether a saved upload
 * still belongs to the file. The shell (client/engine/upload-*.ts) asks and does.
 *
 * Sources: tus 1.0.0 (https://tus.io/protocols/resumable-upload), quoted as "tus §…"; the IETF
 * resumable-upload draft at interop version 9 (docs/ietf-draft-notes.md), quoted as "draft-12 §…".
 */

export type UploadProtocol = 'tus' | 'ietf';

/** What a server offers, read from its answer to OPTIONS. */
export type Discovery =
  | {
      protocol: 'tus';
      /** tus §Tus-Extension: the extensions the server supports ("creation", "concatenation", …). */
      extensions: string[];
      /** tus §Checksum, Tus-Checksum-Algorithm: the algorithms offered, lowercase. */
      checksums: string[];
    }
  | { protocol: 'ietf' };

function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/**
 * The protocol a URL speaks, from the OPTIONS answer. tus §OPTIONS: "A successful response
 * indicated by the 204 No Content or 200 OK status MUST contain the Tus-Version header"; anything
 * else (another status, no Tus-Version) is taken as a target of the IETF draft, whose creation
 * will say whether it is one. `forced` (`--protocol`) wins; a forced tus still reads the offers.
 */
export function discoverProtocol(
  answer: { status: number; headers: Record<string, string | undefined> },
  forced?: UploadProtocol,
): Discovery {
  const h = answer.headers;
  const tus = (answer.status === 200 || answer.status === 204) && h['tus-version'] !== undefined;
  if (forced === 'ietf' || (forced === undefined && !tus)) return { protocol: 'ietf' };
  return {
    protocol: 'tus',
    extensions: list(h['tus-extension']),
    checksums: list(h['tus-checksum-algorithm']),
  };
}

/**
 * The checksum algorithm for `Upload-Checksum`: sha256 where offered, else sha1 (tus §Checksum:
 * "The Server MUST support at least the SHA1 checksum algorithm"), so sha1 also when the server
 * lists nothing.
 */
export function chooseChecksum(offered: readonly string[]): 'sha256' | 'sha1' {
  return offered.includes('sha256') ? 'sha256' : 'sha1';
}

/** What to do after an answer to a PATCH (or a HEAD, or a creation). */
export type AnswerAction =
  /** The server holds bytes up to `offset`: continue from there (done when it is the length). */
  | { kind: 'offset'; offset: number }
  /** Ask the server for its offset (HEAD), then continue from it. */
  | { kind: 'ask-offset'; why: string }
  /** A passing failure (408, 429, 5xx): retry after a backoff, then ask for the offset. */
  | { kind: 'retry'; why: string }
  /** The upload is gone (404, 410): create a new one, and say so. */
  | { kind: 'start-over'; why: string }
  /** Nothing will help: stop with this reason (`status` for the exit code; `broken`: the
   * answer breaks the protocol, as `get` treats an unusable answer). */
  | { kind: 'fatal'; status: number; why: string; broken?: true };

/** Whether a status is passing: 408, 423 (locked: another request is finishing), 429, most 5xx. */
function passing(status: number): boolean {
  if (status === 408 || status === 423 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

function parseOffset(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,16}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The action after an answer to a PATCH or HEAD of an upload (`length`: the upload's length).
 * - 2xx with a valid `Upload-Offset` (tus §PATCH: "The Server MUST acknowledge successful PATCH
 *   requests with the 204 No Content status. It MUST include the Upload-Offset header"; draft-12
 *   sends it on every append) → continue from it. Without one, or past the length → ask (HEAD).
 * - 409 (tus §PATCH: "If the offsets do not match, the Server MUST respond with the 409 Conflict
 *   status"; draft-12 the same, with the right offset) → ask; but fatal when its Upload-Offset is
 *   the offset the PATCH was `sent` at (the offsets match: the server refuses for another reason).
 * - 460 Checksum Mismatch (tus §Checksum) → the chunk was discarded: retry from the server's
 *   offset, never counted as done.
 * - 404, 410 (tus §Expiration: "the Server SHOULD respond with the 410 Gone status") → start over.
 * - 401, 403 → fatal: a wrong token is not retried. 413 → fatal: the server refuses the size.
 * - 408, 423, 429, 5xx → retry. Anything else → fatal.
 */
export function answerAction(
  answer: { status: number; headers: Record<string, string | undefined> },
  length: number,
  sent?: { start: number; end: number },
): AnswerAction {
  const { status } = answer;
  // A 409 to the completing PATCH (`sent` ends at the length) that names the offset it was sent
  // at, or the one its bytes reached, is no offset mismatch: the server refuses to complete, e.g.
  // ranged serve when the target appeared meanwhile.
  const named = parseOffset(answer.headers['upload-offset']);
  const completing = sent !== undefined && sent.end === length;
  if (status === 409 && completing && (named === sent.start || named === sent.end))
    return {
      kind: 'fatal',
      status,
      why: 'the server refused to finish the upload (409): the target exists or cannot be written',
    };
  if (status >= 200 && status <= 299) {
    const offset = parseOffset(answer.headers['upload-offset']);
    if (offset === undefined) return { kind: 'ask-offset', why: 'no Upload-Offset in the answer' };
    if (offset > length)
      return {
        kind: 'fatal',
        status,
        why: `the server claims ${offset} of ${length} bytes`,
        broken: true,
      };
    return { kind: 'offset', offset };
  }
  if (status === 409) return { kind: 'ask-offset', why: 'the offsets do not match (409)' };
  if (status === 460) return { kind: 'retry', why: 'checksum mismatch (460)' };
  if (status === 404 || status === 410)
    return { kind: 'start-over', why: `the server no longer has the upload (${status})` };
  if (status === 401 || status === 403)
    return { kind: 'fatal', status, why: `the token was refused (${status})` };
  if (status === 413)
    return { kind: 'fatal', status, why: 'the file is too large for the server (413)' };
  if (passing(status)) return { kind: 'retry', why: `the server answered ${status}` };
  return { kind: 'fatal', status, why: `the server answered ${status}` };
}

/**
 * The action after the answer to a creation: 201 with a `Location` → the new upload's URL;
 * 401/403/413/409 and other 4xx → fatal (409: the target path exists or is being uploaded);
 * passing statuses → retry.
 */
export function creationAction(answer: {
  status: number;
  headers: Record<string, string | undefined>;
}): { kind: 'created'; location: string } | Exclude<AnswerAction, { kind: 'offset' }> {
  const { status } = answer;
  const location = answer.headers.location;
  if (status >= 200 && status <= 299) {
    if (location === undefined || location === '')
      return { kind: 'fatal', status, why: 'the creation answer has no Location', broken: true };
    return { kind: 'created', location };
  }
  if (status === 409)
    return { kind: 'fatal', status, why: 'the target exists or is being uploaded (409)' };
  const action = answerAction(answer, 0);
  if (action.kind === 'start-over' || action.kind === 'ask-offset' || action.kind === 'offset')
    return { kind: 'fatal', status, why: `the server answered ${status}` };
  return action;
}

/** One slice of the file, sent as one upload: bytes [start, start + length). */
export interface UploadPart {
  start: number;
  length: number;
}

/**
 * How a file of `size` bytes is split over `connections` parallel uploads (tus §Concatenation):
 * equal parts, the last taking the remainder; fewer parts than connections when the file is
 * small (no part under `minPart` bytes, except a single part). Always at least one part.
 */
export function planParts(size: number, connections: number, minPart: number): UploadPart[] {
  const n = Math.max(1, Math.min(connections, Math.floor(size / Math.max(1, minPart))));
  const each = Math.floor(size / n);
  const parts: UploadPart[] = [];
  for (let i = 0; i < n; i++) {
    const start = i * each;
    parts.push({ start, length: i === n - 1 ? size - start : each });
  }
  return parts;
}

/**
 * Where a file's sampled digest reads: up to `blocks` blocks of `blockSize` bytes at fixed,
 * evenly spread positions, the first at 0 and the last ending at the end of the file. A file no
 * larger than `blocks * blockSize` is read whole, as one block.
 */
export function samplePositions(
  size: number,
  blocks: number,
  blockSize: number,
): { start: number; length: number }[] {
  if (size <= blocks * blockSize) return [{ start: 0, length: size }];
  const step = (size - blockSize) / (blocks - 1);
  const out: { start: number; length: number }[] = [];
  for (let i = 0; i < blocks; i++) out.push({ start: Math.round(i * step), length: blockSize });
  return out;
}

/** The facts of a file that tie a saved upload to it. */
export interface FileFacts {
  size: number;
  mtimeMs: number;
  /** The sampled digest (lowercase hex). */
  digest: string;
}

export type FileVerdict = { kind: 'same' } | { kind: 'changed'; why: string };

/**
 * Whether a saved upload still belongs to the file: the same size, mtime and sampled digest, or
 * else why not (said to the user before the stale upload is terminated and a new one created).
 */
export function fileVerdict(saved: FileFacts, now: FileFacts): FileVerdict {
  const stat = statVerdict(saved, now);
  if (stat.kind === 'changed') return stat;
  if (saved.digest !== now.digest) return { kind: 'changed', why: 'its content changed' };
  return { kind: 'same' };
}

/**
 * Whether the file changed during a run, from what one fstat says (no digest: asked before every
 * request and before the last bytes of the completing one): the size, mtime, inode and ctime the
 * run started with, or else why not. A changed file stops the run (a rerun sees it changed and
 * starts anew). fileVerdict() uses it between runs, where only the size and mtime were saved.
 */
export function statVerdict(start: StatFacts, now: StatFacts): FileVerdict {
  if (start.size !== now.size)
    return { kind: 'changed', why: `its size changed from ${start.size} to ${now.size} bytes` };
  if (start.ino !== undefined && now.ino !== undefined && start.ino !== now.ino)
    return { kind: 'changed', why: 'another file took its name' };
  // The change time as well as the modification time: a tool can set the mtime back (cp -p,
  // rsync -t, touch -r), none can set the ctime.
  if (
    start.mtimeMs !== now.mtimeMs ||
    (start.ctimeMs !== undefined && now.ctimeMs !== undefined && start.ctimeMs !== now.ctimeMs)
  )
    return { kind: 'changed', why: 'it was modified' };
  return { kind: 'same' };
}

/** What statVerdict() compares: size and mtime, and during a run the inode and the ctime. */
export interface StatFacts {
  size: number;
  mtimeMs: number;
  ino?: number | undefined;
  ctimeMs?: number | undefined;
}
