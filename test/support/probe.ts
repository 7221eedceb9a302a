import type { Redis } from 'ioredis';
import { deadLetterKeyOf } from '../../src/routing/key-names.js';

/** A row of extended XPENDING: id, consumer, idle time (ms), deliveries. */
export type PendingRow = [string, string, number, number];

/** A stream entry with its fields as text. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: Record<string, string>;
}

/** One line of a `<record>:started` or `<record>:done` list, written by the fixture consumers' handlers. */
export interface HandlerRecord {
  readonly id: string;
  readonly consumer: string;
  readonly deliveries: number;
}

/** What a {@link RedisProbe} looks at. */
export interface ProbeTarget {
  readonly redis: Redis;
  readonly stream: string;
  readonly group: string;
  /**
   * Key prefix the fixture consumers record into (test/fixtures/consumer-app.ts):
   * `<record>:started` and `<record>:done` lists, `<record>:handled` set.
   */
  readonly record?: string;
}

/**
 * Reads Redis state for assertions: the group's pending entries (XPENDING),
 * consumers and groups (XINFO), the stream and its dead-letter stream (XRANGE,
 * XLEN), connections (CLIENT LIST) and what fixture consumers recorded. It
 * never writes.
 */
export class RedisProbe {
  constructor(private readonly target: ProbeTarget) {}

  /** The same probe on another connection, stream, group or record prefix. */
  with(overrides: Partial<ProbeTarget>): RedisProbe {
    return new RedisProbe({ ...this.target, ...overrides });
  }

  /** The dead-letter stream of the probed stream (the transport's default name: `{<stream>}:dlq` for the suite's untagged names). */
  get deadLetterStream(): string {
    return deadLetterKeyOf(this.target.stream);
  }

  /** XPENDING summary count of the group. */
  async pendingCount(): Promise<number> {
    const { redis, stream, group } = this.target;
    const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
    return Number(summary[0]);
  }

  /** Extended XPENDING rows of the group (up to 1,000). */
  async pendingRows(): Promise<PendingRow[]> {
    const { redis, stream, group } = this.target;
    return (await redis.xpending(stream, group, '-', '+', 1000)) as PendingRow[];
  }

  /** Every entry of the stream, fields as text. */
  entries(): Promise<StreamEntry[]> {
    return this.entriesOf(this.target.stream);
  }

  /** The flat field list (name, value, …) of one entry of the stream, as bytes. */
  async entryBytes(id: string): Promise<Buffer[]> {
    const rows = await this.target.redis.xrangeBuffer(this.target.stream, id, id);
    return rows[0]?.[1] ?? [];
  }

  /** Every entry of the dead-letter stream, fields as text. */
  deadLetters(): Promise<StreamEntry[]> {
    return this.entriesOf(this.deadLetterStream);
  }

  /** XLEN of the dead-letter stream. */
  deadLetterCount(): Promise<number> {
    return this.target.redis.xlen(this.deadLetterStream);
  }

  /** Every entry of the dead-letter stream as bytes: [id, flat field list]. */
  deadLetterBytes(): Promise<Array<[Buffer, Buffer[]]>> {
    return this.target.redis.xrangeBuffer(this.deadLetterStream, '-', '+');
  }

  /** Names of the group's consumers (XINFO CONSUMERS). */
  async consumers(): Promise<string[]> {
    const { redis, stream, group } = this.target;
    return ((await redis.xinfo('CONSUMERS', stream, group)) as unknown[][]).map((info) => String(info[1]));
  }

  /** Names of the stream's groups (XINFO GROUPS). */
  async groups(): Promise<string[]> {
    return ((await this.target.redis.xinfo('GROUPS', this.target.stream)) as unknown[][]).map((info) => String(info[1]));
  }

  /** The `CLIENT LIST` rows of connections whose name is `name`, as field maps. */
  async clientsNamed(name: string): Promise<Array<Record<string, string>>> {
    const list = (await this.target.redis.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map(
        (line) =>
          Object.fromEntries(
            line
              .trim()
              .split(' ')
              .map((pair) => {
                const at = pair.indexOf('=');
                return [pair.slice(0, at), pair.slice(at + 1)];
              }),
          ) as Record<string, string>,
      )
      .filter((client) => client.name === name);
  }

  /** What the fixture consumers' handlers recorded when they started (or returned: `done`). */
  async records(list: 'started' | 'done'): Promise<HandlerRecord[]> {
    const lines = await this.target.redis.lrange(this.recordKey(list), 0, -1);
    return lines.map((line) => {
      const [id, consumer, deliveries] = line.split(' ');
      return { id: id!, consumer: consumer!, deliveries: Number(deliveries) };
    });
  }

  /** LLEN of a record list. */
  recordCount(list: 'started' | 'done'): Promise<number> {
    return this.target.redis.llen(this.recordKey(list));
  }

  /** Ids the fixture consumers handled successfully at least once. */
  handled(): Promise<string[]> {
    return this.target.redis.smembers(this.recordKey('handled'));
  }

  /** How many ids the fixture consumers handled successfully at least once. */
  handledCount(): Promise<number> {
    return this.target.redis.scard(this.recordKey('handled'));
  }

  private async entriesOf(key: string): Promise<StreamEntry[]> {
    const entries = await this.target.redis.xrange(key, '-', '+');
    return entries.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return { id, fields };
    });
  }

  private recordKey(kind: 'started' | 'done' | 'handled'): string {
    if (this.target.record === undefined) throw new Error('this probe has no record prefix');
    return `${this.target.record}:${kind}`;
  }
}
