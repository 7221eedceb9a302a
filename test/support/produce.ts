import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamsClient } from '../../src/index.js';
import { waitFor } from './wait.js';

/** Fields as XADD takes them: name, value, name, value… (Buffers for bytes). */
export type Fields = ReadonlyArray<string | Buffer>;

/**
 * Emits `payload` to `stream:<stream>` through our client; resolves with the
 * entry id. `client.emit()` is called at once, so emits started in one turn
 * share one socket write.
 */
export function emit(client: RedisStreamsClient, stream: string, payload: unknown): Promise<string> {
  return lastValueFrom(client.emit<string>(`stream:${stream}`, payload));
}

/** What an {@link EntryProducer} writes with. */
export interface ProducerTarget {
  readonly redis: Redis;
  readonly stream: string;
  /** Our client, for {@link EntryProducer.emit}. */
  readonly client?: () => RedisStreamsClient;
}

/**
 * The one way tests write entries: foreign ones with XADD (as redis-cli or
 * another language would), many at once with a pipeline, or ours through
 * `RedisStreamsClient.emit()`.
 */
export class EntryProducer {
  constructor(private readonly target: ProducerTarget) {}

  /** The stream written to. */
  get stream(): string {
    return this.target.stream;
  }

  /** The same producer on another stream, connection or client. */
  with(overrides: Partial<ProducerTarget>): EntryProducer {
    return new EntryProducer({ ...this.target, ...overrides });
  }

  /** `XADD <stream> * ...fields`; resolves with the new entry's id. */
  async add(...fields: Fields): Promise<string> {
    const id = await this.target.redis.xadd(this.target.stream, '*', ...fields);
    if (id === null) throw new Error(`XADD to ${this.target.stream} returned no id`);
    return id;
  }

  /**
   * `count` entries in one pipeline; entry `i` (counting from `from`, 0 by
   * default) has `fields(i)` (by default `n <i>`). Resolves with their ids in order.
   */
  async addMany(
    count: number,
    { fields = (i) => ['n', String(i)], from = 0 }: { fields?: (i: number) => Fields; from?: number } = {},
  ): Promise<string[]> {
    const pipeline = this.target.redis.pipeline();
    for (let i = from; i < from + count; i += 1) pipeline.xadd(this.target.stream, '*', ...fields(i));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  /** Emits `payload` through our client (see {@link emit}). */
  emit(payload: unknown): Promise<string> {
    if (this.target.client === undefined) throw new Error('this producer has no RedisStreamsClient');
    return emit(this.target.client(), this.target.stream, payload);
  }
}

/**
 * Writes `count` entries (`producer <producer> n <i>`) over its own
 * connection, eight in flight, retrying each XADD until Redis acknowledges it,
 * so nothing is lost on the producer's side while Redis restarts; pushes each
 * id onto `produced`.
 */
export async function addThroughRestarts(
  url: string,
  stream: string,
  { producer, count, produced }: { producer: number; count: number; produced: string[] },
): Promise<void> {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
  });
  redis.on('error', () => undefined);
  const window = 8;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next;
      next += 1;
      for (;;) {
        try {
          produced.push((await redis.xadd(stream, '*', 'producer', String(producer), 'n', String(n)))!);
          break;
        } catch {
          // Not acknowledged (connection lost mid-command): send it again once
          // the client is ready, which ioredis reports only after Redis loaded its data.
          await waitFor(() => redis.status === 'ready', {
            timeoutMs: 30_000,
            message: 'the producer to reconnect',
          });
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: window }, worker));
  } finally {
    redis.disconnect();
  }
}
