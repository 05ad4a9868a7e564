/**
 * The header fields of tus 1.0.0 (https://tus.io/protocols/resumable-upload), each parsed into a
 * result that names every outcome (house rule 2). Nothing here throws on network input.
 */

/** Decodes strict base64 (RFC 4648 §4, padded, no whitespace); undefined when it is not. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    return undefined;
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Upload-Length, Upload-Offset, Upload-Defer-Length

export type UploadLength =
  | { kind: 'absent' }
  | { kind: 'ok'; value: number }
  /** Digits beyond Number.MAX_SAFE_INTEGER: larger than any size the server accepts (→ 413). */
  | { kind: 'too-large' }
  | { kind: 'invalid' };

/** Strict digits (house rule 5): no sign, space, hex, exponent, or list. */
const DIGITS = /^[0-9]+$/;

/**
 * tus 1.0.0 §Upload-Length: "The Upload-Length request and response header indicates the size of
 * the entire upload in bytes. The value MUST be a non-negative integer."
 */
export function parseUploadLength(value: string | undefined): UploadLength {
  if (value === undefined) return { kind: 'absent' };
  if (!DIGITS.test(value)) return { kind: 'invalid' };
  const n = Number(value);
  return Number.isSafeInteger(n) ? { kind: 'ok', value: n } : { kind: 'too-large' };
}

export type UploadOffset = { kind: 'absent' } | { kind: 'ok'; value: number } | { kind: 'invalid' };

/**
 * tus 1.0.0 §Upload-Offset: "The value MUST be a non-negative integer." A huge offset clamps
 * (house rule 5): it can never equal a real offset, so the request gets 409.
 */
export function parseUploadOffset(value: string | undefined): UploadOffset {
  if (value === undefined) return { kind: 'absent' };
  if (!DIGITS.test(value)) return { kind: 'invalid' };
  const n = Number(value);
  return { kind: 'ok', value: Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER };
}

export type UploadDeferLength = { kind: 'absent' } | { kind: 'deferred' } | { kind: 'invalid' };

/**
 * tus 1.0.0 §Creation, Upload-Defer-Length: "Its value MUST be 1. If the length of an upload is
 * not deferred, this header MUST be omitted."
 */
export function parseUploadDeferLength(value: string | undefined): UploadDeferLength {
  if (value === undefined) return { kind: 'absent' };
  return value === '1' ? { kind: 'deferred' } : { kind: 'invalid' };
}

// ---------------------------------------------------------------------------------------------
// Tus-Resumable

export type TusResumable =
  | { kind: 'absent' }
  | { kind: 'ok'; version: string }
  /** tus 1.0.0 §Tus-Resumable: answered with 412 and Tus-Version. */
  | { kind: 'unsupported'; version: string };

/**
 * tus 1.0.0 §Tus-Resumable: "If the Client requests the use of a version which the Server does not
 * support, the Server MUST reject the request and MUST respond with the 412 Precondition Failed
 * status and MUST include the Tus-Version header into the response."
 */
export function parseTusResumable(
  value: string | undefined,
  supported: readonly string[],
): TusResumable {
  if (value === undefined) return { kind: 'absent' };
  const version = value.trim();
  return supported.includes(version) ? { kind: 'ok', version } : { kind: 'unsupported', version };
}

// ---------------------------------------------------------------------------------------------
// Upload-Metadata

export interface MetadataPair {
  key: string;
  /** The decoded value's bytes (empty when the key came without a value). */
  value: Uint8Array;
  /** The value as UTF-8 text, or undefined when its bytes are not UTF-8. */
  text: string | undefined;
}

export type UploadMetadata =
  | { kind: 'absent' }
  | { kind: 'ok'; pairs: MetadataPair[] }
  | { kind: 'too-large'; limit: number }
  | { kind: 'invalid'; reason: string };

export interface ParseUploadMetadataOptions {
  /** The most characters the header may have (issue 12: "metadata has a size cap"). @default 4096 */
  maxLength?: number | undefined;
}

/**
 * tus 1.0.0 §Creation, Upload-Metadata: "The Upload-Metadata request and response header MUST
 * consist of one or more comma-separated key-value pairs. The key and value MUST be separated by a
 * space. The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII
 * encoded and the value MUST be Base64 encoded. All keys MUST be unique. The value MAY be empty. In
 * these cases, the space, which would normally separate the key and the value, MAY be left out."
 */
export function parseUploadMetadata(
  value: string | undefined,
  options: ParseUploadMetadataOptions = {},
): UploadMetadata {
  if (value === undefined) return { kind: 'absent' };
  const limit = options.maxLength ?? 4096;
  if (value.length > limit) return { kind: 'too-large', limit };
  const pairs: MetadataPair[] = [];
  const seen = new Set<string>();
  // "one or more" pairs: an empty header has none.
  for (const raw of value.split(',')) {
    const item = raw.trim(); // OWS around list members (RFC 9110 §5.6.1)
    if (item === '') return { kind: 'invalid', reason: 'empty metadata pair' };
    const space = item.indexOf(' ');
    const key = space === -1 ? item : item.slice(0, space);
    const encoded = space === -1 ? '' : item.slice(space + 1);
    // Keys are visible ASCII without space or comma (a tab or a control is not a key either).
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(key)) {
      return { kind: 'invalid', reason: `bad metadata key "${key}"` };
    }
    if (seen.has(key)) return { kind: 'invalid', reason: `duplicate metadata key "${key}"` };
    seen.add(key);
    const bytes = decodeBase64(encoded);
    if (bytes === undefined) return { kind: 'invalid', reason: `metadata "${key}" is not base64` };
    let text: string | undefined;
    try {
      text = utf8.decode(bytes);
    } catch {
      text = undefined;
    }
    pairs.push({ key, value: bytes, text });
  }
  return { kind: 'ok', pairs };
}

// ---------------------------------------------------------------------------------------------
// Upload-Checksum

/** The digest length in bytes of each algorithm ranged can verify. */
export const CHECKSUM_DIGEST_BYTES: Readonly<Record<string, number>> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  sha512: 64,
};

export type UploadChecksum =
  | { kind: 'absent' }
  | { kind: 'ok'; algorithm: string; digest: Uint8Array }
  /** tus 1.0.0 §Checksum: "400 Bad Request if the checksum algorithm is not supported". */
  | { kind: 'unsupported'; algorithm: string }
  | { kind: 'invalid'; reason: string };

/**
 * tus 1.0.0 §Checksum, Upload-Checksum: "The Upload-Checksum request header contains information
 * about the checksum of the current body payload. The header MUST consist of the name of the used
 * checksum algorithm and the Base64 encoded checksum separated by a space."
 * `supported` lists the algorithms the shell can compute (lower case, as Tus-Checksum-Algorithm).
 */
export function parseUploadChecksum(
  value: string | undefined,
  supported: readonly string[],
): UploadChecksum {
  if (value === undefined) return { kind: 'absent' };
  const m = /^([A-Za-z0-9-]+) (\S+)$/.exec(value.trim());
  if (m === null) return { kind: 'invalid', reason: 'not "algorithm base64"' };
  const algorithm = (m[1] ?? '').toLowerCase();
  if (!supported.includes(algorithm)) return { kind: 'unsupported', algorithm };
  const digest = decodeBase64(m[2] ?? '');
  if (digest === undefined) return { kind: 'invalid', reason: 'checksum is not base64' };
  const want = CHECKSUM_DIGEST_BYTES[algorithm];
  if (want !== undefined && digest.length !== want) {
    return { kind: 'invalid', reason: `a ${algorithm} digest has ${want} bytes` };
  }
  return { kind: 'ok', algorithm, digest };
}

// ---------------------------------------------------------------------------------------------
// Upload-Concat

export type UploadConcat =
  | { kind: 'absent' }
  | { kind: 'partial' }
  /** The partial uploads' URLs, in order, as written (absolute or a path). */
  | { kind: 'final'; urls: string[] }
  | { kind: 'invalid'; reason: string };

/**
 * tus 1.0.0 §Concatenation, Upload-Concat: "The Upload-Concat request and response header MUST be
 * set in both partial and final upload creation requests. It indicates whether the upload is either
 * a partial or final upload. If the upload is a partial one, the header value MUST be partial. In
 * the case of a final upload, its value MUST be final followed by a semicolon and a space-separated
 * list of partial upload URLs that will be concatenated. The partial uploads URLs MAY be absolute
 * or relative and MUST NOT include spaces."
 */
export function parseUploadConcat(value: string | undefined): UploadConcat {
  if (value === undefined) return { kind: 'absent' };
  const v = value.trim();
  if (v === 'partial') return { kind: 'partial' };
  if (!v.startsWith('final;')) return { kind: 'invalid', reason: 'neither partial nor final;' };
  const urls = v
    .slice('final;'.length)
    .split(' ')
    .filter((u) => u !== '');
  if (urls.length === 0) return { kind: 'invalid', reason: 'final without partial uploads' };
  for (const url of urls) {
    // Visible ASCII only: no control character, and no comma (a duplicate field joined by node).
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(url))
      return { kind: 'invalid', reason: `bad URL "${url}"` };
  }
  return { kind: 'final', urls };
}
