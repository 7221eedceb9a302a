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
  | 'WRONGPASS'
  | 'NOAUTH'
  | 'MOVED'
  | 'ASK'
  | 'CLUSTERDOWN'
  | 'TRYAGAIN'
  | 'CROSSSLOT'
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
  'WRONGPASS',
  'NOAUTH',
  'MOVED',
  'ASK',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'CROSSSLOT',
];

/**
 * Classifies an error by the Redis reply prefix in its message.
 *
 * This is the only place that matches Redis reply text.
 */
export function redisReplyKind(error: unknown): RedisReplyKind {
  const message = messageOf(error);
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

/**
 * What a NOPERM reply denies: the command itself, or access to a key (or a
 * Pub/Sub channel) it names. Redis 6.2 to 8 word this differently.
 */
export function deniedTarget(error: unknown): 'command' | 'key' | 'channel' | undefined {
  if (redisReplyKind(error) !== 'NOPERM') return undefined;
  // Redis 7.2+ puts the user's name into the command denial: look at the phrasing only.
  const message = messageOf(error).toLowerCase();
  if (message.includes('permissions to run the')) return 'command';
  if (/permissions to access (a channel|one of the channels)/.test(message)) return 'channel';
  return 'key';
}

/** The start of what Redis sends a connection it cannot take in (maxclients). */
const CLIENT_LIMIT_TEXT = 'max number of clients reached';

/** Whether a reply, or text Redis sent unprompted, says its client limit is reached. */
export function isClientLimitReply(reply: unknown): boolean {
  const text = messageOf(reply);
  return text.includes(CLIENT_LIMIT_TEXT);
}

/** Why a connection attempt failed, as far as Redis' reply tells. */
export type ConnectionRefusal = 'credentials' | 'client-limit' | 'permission' | undefined;

/** Classifies the error a failed connection attempt ended with. */
export function connectionRefusal(error: unknown): ConnectionRefusal {
  if (isClientLimitReply(error)) return 'client-limit';
  const kind = redisReplyKind(error);
  if (kind === 'WRONGPASS' || kind === 'NOAUTH') return 'credentials';
  const message = messageOf(error);
  // Redis 5 and older answer AUTH with plain ERR replies.
  if (/^ERR (invalid password|invalid username-password pair)/.test(message)) return 'credentials';
  if (kind === 'NOPERM') return 'permission';
  return undefined;
}

/** The message of an error, also of one from another realm (no instanceof), or the value as text. */
function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return String(error);
}

/** Whether a reply says the key a command named does not exist (`XINFO` on a missing stream: "ERR no such key"). */
export function isNoSuchKey(error: unknown): boolean {
  return /^ERR no such key/i.test(messageOf(error));
}
