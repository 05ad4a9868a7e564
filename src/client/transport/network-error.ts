/**
 * The errors of one request: a socket failure said in a few words (`networkReason()`), kept with
 * its errno code in `cause`, and the failures no retry can mend (a certificate check).
 */
import { NetworkError, RangedError } from '../../errors.js';

/** A NetworkError for a socket failure, with the errno code kept in `cause`. */
export function networkError(url: string, error: unknown): RangedError {
  if (error instanceof RangedError) return error; // already says what failed (a proxy's refusal)
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint = isCertificateError(code)
    ? ' (the certificate is not trusted: --ca FILE trusts a PEM bundle, --insecure skips the check)'
    : '';
  return new NetworkError(`Cannot download "${url}": ${networkReason(error)}${hint}`, {
    cause: error,
  });
}

/** OpenSSL's verification failures (and Node's host name check): retrying cannot help. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Whether an errno-style code is a failed certificate check. */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && CERTIFICATE_ERRORS.has(code);
}

/** The errno code behind a NetworkError, if any (ECONNREFUSED, ENOTFOUND…). */
export function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short reason for a socket failure: 'connection refused' for ECONNREFUSED, else the message. */
export function networkReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : (REASONS[code] ?? message);
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
};
