/** The upload options of `ranged serve` (issue 12): parsed, checked, and the token made if absent. */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { UploadOptions } from '../server/uploads/uploads.js';
import { parseSize } from './get-args.js';

export const UPLOAD_HELP = `Uploads (off unless --uploads is given):
      --uploads       take resumable uploads into DIR: tus 1.0.0 at /.uploads/ (creation,
                      creation-with-upload, creation-defer-length, termination, checksum,
                      expiration, concatenation), the IETF resumable-upload draft (interop
                      versions 6 and 9) and plain PUT on a file's path (curl -T). A file
                      appears at its path only once every byte is there; an existing file is
                      never replaced (409). Unfinished uploads live in DIR/.ranged-uploads/
                      (for s3://, in the bucket under PREFIX/.ranged-uploads/, so every server
                      of the bucket can continue any upload), never served or listed
      --upload-token TOKEN
                      the bearer token every upload request needs (Authorization: Bearer
                      TOKEN); also read from RANGED_UPLOAD_TOKEN; without either, a random one
                      is made and printed once on stderr. Reading stays public
      --max-upload-size SIZE
                      largest upload, K/M/G/T as powers of 1024 (e.g. 4G); larger ones get
                      413 (default: no limit but the free disk space)
      --upload-expires DURATION
                      an unfinished upload is removed this long after its last activity:
                      e.g. 90s, 10m, 24h, 7d (default 24h)
`;

/** `2s`, `10m`, `24h`, `7d` (or plain seconds) → ms; at least 1 s, at most 365 days. */
export function parseDuration(name: string, text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m?.[2] ?? 's'] ?? 1000;
  const ms = m === null ? Number.NaN : Number(m[1]) * unit;
  if (!(ms >= 1000 && ms <= 365 * 86_400_000)) {
    throw new UsageError(
      `Cannot use ${name} "${text}": expected a duration from 1s to 365d, such as 90s, 10m, 24h or 7d`,
    );
  }
  return ms;
}

export interface UploadFlags {
  uploads?: boolean | undefined;
  'upload-token'?: string | undefined;
  'max-upload-size'?: string | undefined;
  'upload-expires'?: string | undefined;
}

/**
 * The upload options the flags ask for, or undefined without --uploads (then the other upload
 * flags are an error: they would silently do nothing). `generated` is set when the token was made
 * here, to be printed once.
 */
export function uploadOptions(
  flags: UploadFlags,
  env: Record<string, string | undefined>,
): { options: UploadOptions; generated: boolean } | undefined {
  if (!flags.uploads) {
    for (const name of ['upload-token', 'max-upload-size', 'upload-expires'] as const) {
      if (flags[name] !== undefined) {
        throw new UsageError(`Cannot use --${name} without --uploads`);
      }
    }
    return undefined;
  }
  const given = flags['upload-token'] ?? env.RANGED_UPLOAD_TOKEN;
  if (given !== undefined && !/^[\x21-\x7e]{8,512}$/.test(given)) {
    throw new UsageError(
      'Cannot use the upload token: expected 8 to 512 visible ASCII characters, no spaces',
    );
  }
  const token = given ?? randomBytes(24).toString('base64url');
  const options: UploadOptions = { token };
  if (flags['max-upload-size'] !== undefined) {
    options.maxSize = parseSize(flags['max-upload-size'], '--max-upload-size');
  }
  if (flags['upload-expires'] !== undefined) {
    options.expires = parseDuration('--upload-expires', flags['upload-expires']);
  }
  return { options, generated: given === undefined };
}
