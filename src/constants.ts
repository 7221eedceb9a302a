/** Prefix that marks an `@EventPattern` as belonging to this transport. */
export const STREAM_PATTERN_PREFIX = 'stream:';

/** Prefix that marks an `@EventPattern` as a list queue of this transport (`list:jobs`). */
export const LIST_PATTERN_PREFIX = 'list:';

/** Transport id handed to Nest so handlers can be bound to this transport only. */
export const REDIS_STREAMS_TRANSPORT = Symbol('REDIS_STREAMS_TRANSPORT');

/** Field holding the JSON-encoded payload of entries written by our client. */
export const DATA_FIELD = 'data';
/** Field whose presence (with {@link CONTENT_TYPE_JSON}) says an entry is ours. */
export const CONTENT_TYPE_FIELD = 'content-type';
/** Content type written by our client; only entries carrying it are JSON-decoded. */
export const CONTENT_TYPE_JSON = 'application/vnd.nestjs-redis-streams.v1+json';
/** Content type written by our client for a `Buffer` payload: `data` holds its bytes as they are. */
export const CONTENT_TYPE_BYTES = 'application/vnd.nestjs-redis-streams.v1+bytes';
/** Field holding JSON-encoded packet metadata (set through the client's dispatch hook). */
export const METADATA_FIELD = 'metadata';

/**
 * Field of a request entry: `<correlation id> <deadline> <reply stream>`, NestJS' packet id
 * (which its replies carry), the caller's deadline (epoch ms, after which nobody waits for the
 * answer) and the key of the reply stream of the client that asked. One field, not three:
 * every field is a string Redis stores and the client and server encode and parse per request.
 */
export const REQUEST_FIELD = 'request';
/** Field of a request's last reply: the correlation id of the request it answers. */
export const REPLY_FIELD = 'reply';
/** Field of a reply that more replies follow (an Observable handler's values before its last): the correlation id. */
export const REPLY_PART_FIELD = 'reply-part';
/** Field of a reply entry: the JSON-encoded error the request ended with. */
export const REPLY_ERROR_FIELD = 'error';
/** Start of every reply stream key (the rest is unique per client connection). */
export const REPLY_STREAM_PREFIX = 'nrs:reply:';

/** Dead-letter fields added next to the original ones. */
export const DEAD_LETTER_FIELDS = {
  stream: 'dlq-stream',
  id: 'dlq-id',
  group: 'dlq-group',
  consumer: 'dlq-consumer',
  deliveries: 'dlq-deliveries',
  error: 'dlq-error',
  time: 'dlq-time',
} as const;

/**
 * Field under which a list entry's bytes are kept in its dead-letter record (a
 * list entry is one value, not a field map). Replaying it is `RPUSH <dlq-stream> <list-entry>`.
 */
export const LIST_ENTRY_FIELD = 'list-entry';
/** The `dlq-id` of a list entry's dead letter: list entries have no id, and this says it came from a list. */
export const LIST_DEAD_LETTER_ID = 'list';

/** Suffix of the default dead-letter stream, appended to the source stream key. */
export const DEFAULT_DEAD_LETTER_SUFFIX = ':dlq';

/** Host of the Redis connected to when `connection` does not name one (ioredis' default too). */
export const DEFAULT_REDIS_HOST = 'localhost';
/** Port of the Redis connected to when `connection` does not name one (ioredis' default too). */
export const DEFAULT_REDIS_PORT = 6379;

export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_BLOCK_MS = 5_000;
export const DEFAULT_CONCURRENCY = 200;
export const DEFAULT_CLAIM_IDLE_MS = 30_000;
export const DEFAULT_CLAIM_INTERVAL_MS = 1_000;
export const DEFAULT_MAX_DELIVERIES = 16;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STREAM_WAIT_INTERVAL_MS = 5_000;
export const DEFAULT_CONSUMER_IDLE_CLEANUP_MS = 3_600_000;
export const DEFAULT_RETRY_BASE_DELAY_MS = 1_000;
/** How far a retry delay is spread either way, as a fraction of it. */
export const DEFAULT_RETRY_JITTER = 0.2;
export const DEFAULT_RECONNECT_BASE_DELAY_MS = 100;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 5_000;
/** Spread of each reconnect delay, as a fraction of it either way. */
export const DEFAULT_RECONNECT_JITTER = 0.2;
/** Most time an `emit()` waits for a lost or not yet open connection to Redis before it fails. */
export const DEFAULT_EMIT_TIMEOUT_MS = 5_000;
/** Most emits the client holds while Redis is not connected. */
export const DEFAULT_MAX_QUEUED_EMITS = 10_000;
/** Most time a `send()` waits for its (last) reply before it fails. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;
/** Time to live of a reply stream, renewed while its client lives (so a dead client's expires). */
export const REPLY_STREAM_TTL_MS = 60_000;
/** How often a client renews its reply stream's time to live. */
export const REPLY_STREAM_RENEW_MS = 15_000;
/**
 * Replies a client reads between two trims of its reply stream (`XTRIM MINID` of the last one
 * read). The client trims, not each reply's XADD: a reply stream holds only replies to the
 * client's own requests, so it never holds more than this plus those in flight.
 */
export const REPLY_STREAM_TRIM_EVERY = 1_000;
/** How long a client trusts that a stream has a consumer group before looking again. */
export const GROUP_LOOKUP_TTL_MS = 5_000;
/** How often a server reads its gauges (lengths, lag, pending) from Redis. */
export const DEFAULT_GAUGE_INTERVAL_MS = 15_000;
