/** Why a TLS connection failed, as far as the socket error tells. */
export type TlsFailure = 'untrusted-certificate' | 'hostname-mismatch' | undefined;

/**
 * Node's (OpenSSL's) codes for a server certificate the client does not
 * trust: signed by a CA it was not given, self-signed, expired, not yet valid.
 */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);

/** Classifies a socket error of a TLS connection by its `code`. */
export function tlsFailure(error: unknown): TlsFailure {
  const code = codeOf(error);
  if (code === undefined) return undefined;
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) return 'untrusted-certificate';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'hostname-mismatch';
  return undefined;
}

/** Whether the peer reset the connection (`ECONNRESET`), as Redis' TLS port does to a client that does not speak TLS. */
export function isConnectionReset(error: unknown): boolean {
  return codeOf(error) === 'ECONNRESET';
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
