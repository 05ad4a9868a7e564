/**
 * The whole response decision for one file, as a value: status, headers and the body as a list of
 * parts. No socket, no clock, no file-system access; the server shell only writes what it says.
 */
import { formatContentRange } from './content-range.js';
import { type BodyPart, planMultipart } from './multipart.js';
import { type ConditionalHeaders, evaluatePreconditions, ifRangeAllows } from './preconditions.js';
import { parseRange } from './range.js';
import { fileETag, formatHttpDate } from './validators.js';

export type { BodyPart } from './multipart.js';

export interface RequestFacts {
  method: string;
  headers: ConditionalHeaders & {
    range?: string | undefined;
    ifRange?: string | undefined;
  };
}

export interface FileFacts {
  size: number;
  mtimeMs: number;
  ino?: number;
  /** Content-Type to send, e.g. `text/plain; charset=utf-8`. */
  type: string;
  /** A precomputed strong ETag; computed from size, mtime and inode when absent. */
  etag?: string;
}

export interface PlanOptions {
  /**
   * Boundary for multipart/byteranges, or a function that makes one (called only when a multipart
   * body is planned); the shell makes it random for each response.
   */
  boundary: string | (() => string);
  /** Most range-specs honoured in one Range header; more and the whole file is sent. @default 100 */
  maxRanges?: number;
  /** A Cache-Control value for file responses; none is sent when absent. */
  cacheControl?: string;
}

export interface ResponsePlan {
  status: number;
  headers: Record<string, string>;
  /** What to send after the headers, in order (nothing for HEAD, whatever this says). */
  body: BodyPart[];
}

const encoder = new TextEncoder();

function textResponse(status: number, text: string, headers: Record<string, string>): ResponsePlan {
  const bytes = encoder.encode(`${text}\n`);
  return {
    status,
    headers: {
      ...headers,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(bytes.length),
    },
    body: [{ bytes }],
  };
}

/** Decides the response to a request for one regular file. */
export function planResponse(
  req: RequestFacts,
  file: FileFacts,
  options: PlanOptions,
): ResponsePlan {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    // RFC 9110 §15.5.6: a 405 response MUST include an Allow header.
    return textResponse(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  }

  const etag = file.etag ?? fileETag(file);
  const lastModified = Math.floor(file.mtimeMs / 1000) * 1000;
  const lastModifiedText = formatHttpDate(lastModified);
  const cacheControl = options.cacheControl;
  /**
   * Adds the validators (and Cache-Control) to a header object built for one response, and
   * `nosniff`, so a browser renders a file as its Content-Type says and never guesses (an
   * uploaded `.txt` holding HTML must not run as a page).
   */
  const withValidators = (headers: Record<string, string>): Record<string, string> => {
    headers['X-Content-Type-Options'] = 'nosniff';
    headers.ETag = etag;
    headers['Last-Modified'] = lastModifiedText;
    if (cacheControl !== undefined) headers['Cache-Control'] = cacheControl;
    return headers;
  };
  const current = { etag, lastModified };

  // RFC 9110 §13.2.2: preconditions are evaluated before Range (steps 1-4, then step 5).
  const outcome = evaluatePreconditions(req.headers, current);
  if (outcome === 'failed') return textResponse(412, 'Precondition Failed', withValidators({}));
  if (outcome === 'not-modified') {
    // §15.4.5: a 304 carries the validators and caching fields, no content or content metadata.
    const headers: Record<string, string> = { ETag: etag };
    if (cacheControl !== undefined) headers['Cache-Control'] = cacheControl;
    return { status: 304, headers, body: [] };
  }

  const whole = (): ResponsePlan => ({
    status: 200,
    headers: withValidators({
      'Accept-Ranges': 'bytes',
      'Content-Type': file.type,
      'Content-Length': String(file.size),
    }),
    body: file.size > 0 ? [{ start: 0, end: file.size - 1 }] : [],
  });

  // §14.2: "A server MUST ignore a Range header field received with a request method other than
  // GET." §13.1.5: a false If-Range condition means the Range is ignored too.
  if (method !== 'GET' || !ifRangeAllows(req.headers.ifRange, current)) return whole();

  const parsed = parseRange(req.headers.range, file.size, options);
  if (parsed.kind === 'absent' || parsed.kind === 'ignored') return whole();
  if (parsed.kind === 'unsatisfiable') {
    // §15.5.17: a 416 to a byte-range request SHOULD carry Content-Range: bytes */length.
    return textResponse(
      416,
      'Range Not Satisfiable',
      withValidators({
        'Accept-Ranges': 'bytes',
        'Content-Range': formatContentRange(undefined, file.size),
      }),
    );
  }

  const ranges = parsed.ranges;
  const first = ranges[0];
  if (first === undefined) return whole();
  if (ranges.length === 1) {
    // §15.3.7.1: a single part: Content-Range plus the selected bytes.
    return {
      status: 206,
      headers: withValidators({
        'Accept-Ranges': 'bytes',
        'Content-Type': file.type,
        'Content-Range': formatContentRange(first, file.size),
        'Content-Length': String(first.end - first.start + 1),
      }),
      body: [{ start: first.start, end: first.end }],
    };
  }
  // §15.3.7.2: several parts in multipart/byteranges. §17.15 (denial of service): never send more
  // than the whole file would cost; then the whole file is the cheaper, still correct, answer.
  const boundary = typeof options.boundary === 'string' ? options.boundary : options.boundary();
  const multipart = planMultipart(ranges, { size: file.size, type: file.type, boundary });
  if (multipart.length >= file.size) return whole();
  return {
    status: 206,
    headers: withValidators({
      'Accept-Ranges': 'bytes',
      'Content-Type': `multipart/byteranges; boundary=${boundary}`,
      'Content-Length': String(multipart.length),
    }),
    body: multipart.parts,
  };
}
