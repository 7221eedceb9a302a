/** Redis error reply prefixes this transport reacts to. */
export type RedisReplyKind =
  | 'BUSYGROUP'
  | 'NOGROUP'
  | 'UNBLOCKED'
  | 'WRONGTYPE'
  | 'NOPERM'
  | 'NOSCRIPT'
  | 'LOADING'
  | 'READONLY'
  | 'other';

const KNOWN_KINDS: readonly RedisReplyKind[] = [
  'BUSYGROUP',
  'NOGROUP',
  'UNBLOCKED',
  'WRONGTYPE',
  'NOPERM',
  'NOSCRIPT',
  'LOADING',
  'READONLY',
];

/**
 * Classifies an error by the Redis reply prefix in its message.
 *
 * This is the only place that matches Redis reply text.
 */
export function redisReplyKind(error: unknown): RedisReplyKind {
  const message = error instanceof Error ? error.message : String(error);
  return KNOWN_KINDS.find((kind) => message.startsWith(kind)) ?? 'other';
}

/**
 * The stream or the group is gone: NOGROUP, or (Redis 7) a blocked read
 * released with "UNBLOCKED the stream key no longer exists".
 */
export function isGroupGone(error: unknown): boolean {
  const kind = redisReplyKind(error);
  return kind === 'NOGROUP' || kind === 'UNBLOCKED';
}

/** Configuration errors that retrying cannot fix. */
export function isConfigurationError(error: unknown): boolean {
  const kind = redisReplyKind(error);
  return kind === 'WRONGTYPE' || kind === 'NOPERM';
}

/** Short description of an unknown thrown value, safe to log (no payloads). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error).message);
  }
  return String(error);
}
