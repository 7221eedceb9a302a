import { createHash } from 'node:crypto';
import { entryIdMs } from './entry-id.js';
import { toFieldMap, type FieldValue, type StreamFields } from './stream-codec.js';

/** The `context` of an argo-events event: CloudEvents attributes. */
export interface ArgoEventContext {
  /** Unique per entry (stream and entry id), the same on every redelivery: a name-based UUID. */
  readonly id: string;
  readonly source: string;
  readonly specversion: '1.0';
  readonly type: 'redisStream';
  readonly datacontenttype: 'application/json';
  readonly subject: string;
  /** The entry id's timestamp, RFC 3339 in UTC (`2026-12-01T13:04:12.123Z`). */
  readonly time: string;
}

/** The event the argo-events Redis Streams event source dispatches for one entry. */
export interface ArgoEvent {
  readonly context: ArgoEventContext;
  readonly data: {
    readonly stream: string;
    readonly message_id: string;
    /** The entry's field map: text as strings, values that are not UTF-8 as Buffers. */
    readonly values: StreamFields;
  };
}

/** Where the events of one stream say they come from. */
export interface ArgoEventOrigin {
  readonly stream: string;
  readonly source: string;
  readonly subject: string;
}

/** Namespace of the entry UUIDs (a random UUID, fixed for this package). */
const ENTRY_ID_NAMESPACE = Buffer.from('5f0c7a3e9b2d4c61a8e4d2b7c9f01a36', 'hex');

/**
 * The argo-events envelope of one stream entry, as that source hands it to a
 * sensor: `{ context, data: { stream, message_id, values } }`. Values are
 * copied as read, never decoded: our own entries show their
 * `content-type` and `data` fields like anyone else's.
 *
 * @param flat - the entry's exact flat field list
 * @param receivedAt - stands in for the time when the id holds none that a Date can show
 */
export function argoEventOf(origin: ArgoEventOrigin, id: string, flat: readonly FieldValue[], receivedAt: number): ArgoEvent {
  return {
    context: {
      id: entryUuid(origin.stream, id),
      source: origin.source,
      specversion: '1.0',
      type: 'redisStream',
      datacontenttype: 'application/json',
      subject: origin.subject,
      time: entryTime(id, receivedAt),
    },
    data: { stream: origin.stream, message_id: id, values: toFieldMap(flat) },
  };
}

/** A version-5 (name-based, SHA-1) UUID of the stream and entry id. */
export function entryUuid(stream: string, id: string): string {
  const hash = createHash('sha1').update(ENTRY_ID_NAMESPACE).update(stream).update('\0').update(id).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The time in an entry id (`<ms>-<seq>`), RFC 3339 UTC; `fallback` (epoch ms) when it is beyond what a Date holds. */
export function entryTime(id: string, fallback: number): string {
  return new Date(entryIdMs(id) ?? fallback).toISOString();
}
