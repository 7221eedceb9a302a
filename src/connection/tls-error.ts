import type { Redis } from 'ioredis';
import { describeError } from '../errors/describe-error.js';
import { redactError } from '../errors/redact.js';
import { RedisConnectionError } from '../errors/redis-connection.error.js';
import { isConnectionReset, tlsFailure } from '../errors/tls-failure.js';
import { describeTarget } from './connection-target.js';

/**
 * The start-up error for a connection that failed because of TLS, saying what
 * to fix: the CA to trust, the name to connect by, client certificates, or
 * TLS on one side only. `undefined` when TLS is not what went wrong, as far as
 * the socket error tells.
 *
 * @param refusal - the socket error the attempt ended with
 * @param hasTimedOut - whether the attempt ended because connectTimeoutMs passed
 */
export function tlsConnectionError(redis: Redis, refusal: unknown, hasTimedOut: boolean): RedisConnectionError | undefined {
  const target = describeTarget(redis);
  const usesTls = redis.options.tls !== undefined && redis.options.tls !== null;
  const cause = redactError(refusal);
  switch (tlsFailure(refusal)) {
    case 'untrusted-certificate':
      return new RedisConnectionError(target, `the Redis server's TLS certificate is not trusted (${describeError(cause)})`, {
        cause,
        fix:
          'Give the certificate of the CA that signed the Redis server\'s certificate as "tls.ca" in "connection" ' +
          "({ host, port, tls: { ca: readFileSync('ca.crt') } }); a rediss:// URL alone trusts only the system's CAs (and NODE_EXTRA_CA_CERTS).",
      });
    case 'hostname-mismatch':
      return new RedisConnectionError(target, `the Redis server's TLS certificate is for another name (${describeError(cause)})`, {
        cause,
        fix: 'Connect by a host name or IP address the certificate lists (its subjectAltName), or set "tls.servername" to one of them.',
      });
    default:
      break;
  }
  if (usesTls && hasTimedOut) {
    return new RedisConnectionError(target, describeError(cause), {
      cause,
      fix: 'With "tls" set, the port must be Redis\' TLS port (tls-port): a plain port never answers a TLS handshake.',
    });
  }
  if (isConnectionReset(refusal)) {
    return new RedisConnectionError(target, `Redis closed the connection (${describeError(cause)})`, {
      cause,
      fix: usesTls
        ? 'If Redis asks clients for certificates (tls-auth-clients yes), give "tls.cert" and "tls.key" in "connection".'
        : 'If this is Redis\' TLS port (tls-port), set "tls" in "connection" ({ host, port, tls: { ca } }) or use a rediss:// URL.',
    });
  }
  return undefined;
}
