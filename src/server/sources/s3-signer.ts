/**
 * SigV4 signing (`aws4`) for the lean store requests (s3-reader.ts), with what repeats between
 * requests made once.
 *
 * A SigV4 signature covers the method, the path and query, the signed header fields and the
 * request time to the second (X-Amz-Date), and nothing else; aws4 never signs `Range`. So the
 * 1 KiB reads of one object at random offsets, which differ only in their Range, sign the same
 * text within one second, and get the same signature. Making one costs about 30 µs of CPU on the
 * bench machine (SHA-256 and HMAC passes, aws4's string and object work), close to a tenth of
 * what a small ranged read cost ranged in all (bench/RESULTS.md, 2026-12-07): a signature is made
 * once per second for each distinct signed text and reused, and a reused one is exactly the
 * signature aws4 would compute again.
 */
import aws4 from 'aws4';

export interface S3SignerOptions {
  /** `host[:port]` as sent in the Host field. */
  host: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The clock (ms since the epoch) that dates each request. @default Date.now */
  now?: () => number;
}

/** The most signatures kept for one second; past it a request is signed without being kept. */
const KEPT_MAX = 1_000;

export class S3Signer {
  readonly #host: string;
  readonly #region: string;
  readonly #credentials: S3SignerOptions['credentials'];
  readonly #now: () => number;
  /** The second the kept signatures were made in, and its X-Amz-Date text. */
  #second = Number.NaN;
  #amzDate = '';
  /** This second's signed fields (name, value, name, value, …), by what they sign. */
  readonly #kept = new Map<string, readonly string[]>();

  constructor(options: S3SignerOptions) {
    this.#host = options.host;
    this.#region = options.region;
    this.#credentials = options.credentials;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The header fields to send for `method` on `path` (with its query), as node:http takes them
   * raw (name, value, name, value, …; no per-field object work): the `signed` fields with Host,
   * X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD), X-Amz-Date and Authorization (and
   * X-Amz-Security-Token for temporary credentials), then the `unsigned` ones (Range). A new
   * array for every call: the caller may change it.
   */
  sign(
    method: string,
    path: string,
    signed: Record<string, string>,
    unsigned: Record<string, string> = {},
  ): string[] {
    const second = Math.floor(this.#now() / 1000);
    if (second !== this.#second) {
      // A signature holds its second (X-Amz-Date): a new second starts a new set.
      this.#second = second;
      this.#amzDate = new Date(second * 1000).toISOString().replace(/[:-]|\.\d{3}/g, '');
      this.#kept.clear();
    }
    let key = `${method} ${path}`;
    for (const name in signed) key += `\n${name}:${signed[name]}`;
    let fields = this.#kept.get(key);
    if (fields === undefined) {
      const { headers } = aws4.sign(
        {
          host: this.#host,
          path,
          method,
          service: 's3',
          region: this.#region,
          // The payload is not hashed for the signature: a HEAD or GET has none, and a part's
          // bytes are checked by CompleteMultipartUpload against the ETag its PUT returned.
          headers: {
            ...signed,
            'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
            'X-Amz-Date': this.#amzDate,
          },
        },
        this.#credentials,
      );
      fields = Object.entries(headers ?? {}).flatMap(([name, value]) => [name, String(value)]);
      if (this.#kept.size < KEPT_MAX) this.#kept.set(key, fields);
    }
    const out = [...fields];
    for (const name in unsigned) out.push(name, unsigned[name] as string);
    return out;
  }
}
