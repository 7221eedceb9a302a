/**
 * Metric, attribute and event names: OpenTelemetry's messaging semantic
 * conventions where they have one, ours under `nrs.` otherwise. The README's
 * "Telemetry" section lists them all.
 */

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGE_ID = 'messaging.message.id';
export const ATTR_CLIENT_ID = 'messaging.client.id';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_DELIVERY_COUNT = 'nrs.delivery.count';
export const ATTR_OUTCOME = 'nrs.outcome';
export const ATTR_DELAY_MS = 'nrs.retry.delay_ms';
export const ATTR_DEAD_LETTER_STREAM = 'nrs.dead_letter.stream';
export const ATTR_DEAD_LETTER_REASON = 'nrs.dead_letter.reason';
export const ATTR_RECLAIMED_FROM = 'nrs.reclaimed.from';
/** What a gauge about a list queue measures: `list`, `processing` or `retry`. */
export const ATTR_LIST_PART = 'nrs.list.part';

export const MESSAGING_SYSTEM = 'redis';

export const METRIC_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_CONSUMED = 'messaging.client.consumed.messages';
export const METRIC_SENT = 'messaging.client.sent.messages';
export const METRIC_SETTLED = 'nrs.settled.messages';
export const METRIC_RECLAIMED = 'nrs.reclaimed.messages';
export const METRIC_DELIVERY_COUNT = 'nrs.delivery.count';
export const METRIC_MESSAGE_AGE = 'nrs.message.age';
export const METRIC_STREAM_LENGTH = 'nrs.stream.length';
export const METRIC_GROUP_LAG = 'nrs.group.lag';
export const METRIC_GROUP_LAG_AGE = 'nrs.group.lag.age';
export const METRIC_GROUP_PENDING = 'nrs.group.pending';
export const METRIC_PENDING_OLDEST_AGE = 'nrs.group.pending.oldest.age';
export const METRIC_CONSUMER_PENDING = 'nrs.consumer.pending';
export const METRIC_DEAD_LETTER_LENGTH = 'nrs.dead_letter.length';
export const METRIC_LIST_LENGTH = 'nrs.list.length';

export const EVENT_RETRY = 'retry';
export const EVENT_DEAD_LETTER = 'dead_letter';
export const EVENT_RECLAIMED = 'reclaimed';
export const EVENT_RELEASED = 'released';
export const EVENT_LEASE_LOST = 'lease_lost';

/** Bucket boundaries of the process-duration histogram (s), as the messaging conventions advise. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Bucket boundaries of the message-age histogram (s): from a few milliseconds to a day. */
export const AGE_BUCKETS_S = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];
/** Bucket boundaries of the delivery-count histogram. */
export const DELIVERY_BUCKETS = [1, 2, 3, 4, 5, 8, 16, 32, 64];
