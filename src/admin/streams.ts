import { nodesOf, type AdminClient } from './admin-client.js';
import { entryIdOf, numberField, replyFields, timeOfId } from '../codec/reply-fields.js';

/** One stream, as `nrs streams` lists it. */
export interface StreamSummary {
  readonly stream: string;
  readonly length: number;
  readonly groups: number;
  readonly firstEntryId: string | undefined;
  readonly lastEntryId: string | undefined;
  /** RFC 3339 UTC times of the first and last entries, from their ids. */
  readonly firstEntryTime: string | undefined;
  readonly lastEntryTime: string | undefined;
}

/** SCAN's page size: large enough that a big keyspace costs few round trips, small enough not to stall Redis. */
const SCAN_COUNT = 1_000;

/**
 * The keys of type stream matching `match` (a glob), on every master: SCAN
 * with `TYPE stream`, so other keys cost nothing but the scan.
 */
export async function streamKeys(redis: AdminClient, match = '*'): Promise<string[]> {
  const keys = new Set<string>();
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, page] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT, 'TYPE', 'stream');
      for (const key of page) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...keys].sort();
}

/** Every stream matching `match` with its length, number of groups and first and last entries. */
export async function listStreams(redis: AdminClient, match = '*'): Promise<StreamSummary[]> {
  const keys = await streamKeys(redis, match);
  const infos = await Promise.all(keys.map((key) => redis.xinfo('STREAM', key).catch(() => undefined)));
  const summaries: StreamSummary[] = [];
  keys.forEach((stream, i) => {
    if (infos[i] === undefined) return; // deleted since the scan
    summaries.push(summaryOf(stream, infos[i]));
  });
  return summaries;
}

/** One stream's summary; throws Redis' error for a missing key or one of another type. */
export async function describeStream(redis: AdminClient, stream: string): Promise<StreamSummary> {
  return summaryOf(stream, await redis.xinfo('STREAM', stream));
}

function summaryOf(stream: string, reply: unknown): StreamSummary {
  const fields = replyFields(reply);
  const firstEntryId = entryIdOf(fields.get('first-entry'));
  const lastEntryId = entryIdOf(fields.get('last-entry'));
  return {
    stream,
    length: numberField(fields, 'length') ?? 0,
    groups: numberField(fields, 'groups') ?? 0,
    firstEntryId,
    lastEntryId,
    firstEntryTime: timeOfId(firstEntryId),
    lastEntryTime: timeOfId(lastEntryId),
  };
}
