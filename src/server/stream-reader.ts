import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { describeError, isConfigurationError, isGroupGone } from '../errors/redis-reply.js';
import { StreamConfigurationError } from '../errors/redis-streams.error.js';
import type { ResolvedStreamOptions } from '../options/resolve-server-options.js';
import type { MissingStreamPolicy } from '../interfaces/server-options.interface.js';
import type { Acker } from './acker.js';
import { asConfigurationError, ensureGroup } from './consumer-group.js';
import type { EntryProcessor } from './entry-processor.js';
import { ConnectionLostError, GuardedConnection, reconnectDelayMs } from './redis-connection.js';
import type { Slots } from './slots.js';

/** Raw XREADGROUP reply: per stream, entries as [id, flat fields or null when deleted]. */
type ReadReply = Array<[string, Array<[string, string[] | null]>]> | null;

/** What a stream reader needs. */
export interface StreamReaderDeps {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly options: ResolvedStreamOptions;
  readonly missingStream: MissingStreamPolicy;
  readonly streamWaitIntervalMs: number;
  /** Dedicated connection: XREADGROUP BLOCK holds it. */
  readonly blocking: Redis;
  /** Shared connection for everything that does not block. */
  readonly commands: Redis;
  readonly processor: EntryProcessor;
  readonly acker: Acker;
  readonly slots: Slots;
  readonly logger: Logger;
  /** Called when the reader gives up for good (configuration errors). */
  readonly onFatal: (error: Error) => void;
}

/**
 * Reads one stream for one consumer in a single `while` loop: first the
 * consumer's own pending entries (from `0`), then new ones (`>`), never asking
 * for more than the free handler slots.
 */
export class StreamReader {
  private isStopping = false;
  private loop: Promise<void> | undefined;
  private isBlocked = false;
  private blockingClientId: number | undefined;
  /** Last id handed to this consumer; a recreated group resumes after it. */
  private lastSeenId: string;
  /** The blocking connection, whose unanswered commands must fail when it drops. */
  private readonly connection: GuardedConnection;
  /** Aborted by {@link stop}, to end waits for the connection. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: StreamReaderDeps,
    startId: string,
  ) {
    this.lastSeenId = startId;
    this.connection = new GuardedConnection(deps.blocking);
  }

  /**
   * Starts the loop; it runs until {@link stop}.
   *
   * @param hasGroup - false when the stream is missing and the group still has to be created
   */
  start(hasGroup: boolean): void {
    this.deps.blocking.on('close', () => {
      this.blockingClientId = undefined;
    });
    this.loop ??= this.run(hasGroup);
  }

  /** Stops reading, interrupting a blocked XREADGROUP, and waits for the loop to end. */
  async stop(): Promise<void> {
    this.isStopping = true;
    this.stopping.abort();
    this.deps.slots.wakeAll();
    await this.unblock();
    await this.loop;
  }

  private async run(hasGroup: boolean): Promise<void> {
    if (!hasGroup && !(await this.waitForStream())) return;
    let cursor = '0';
    let failures = 0;
    while (!this.isStopping) {
      await this.deps.slots.whenFree();
      if (this.isStopping) break;
      // Slots are reserved before the read, so the reclaimer cannot hand out
      // the same ones while it blocks: in flight never exceeds concurrency.
      const count = this.deps.slots.take(this.deps.options.batchSize);
      if (count === 0) continue;
      let reply: ReadReply;
      try {
        reply = await this.read(cursor, count);
        failures = 0;
      } catch (error) {
        this.deps.slots.release(count);
        if (this.isStopping) break;
        failures += 1;
        const keepGoing = await this.recover(error, failures);
        if (!keepGoing) break;
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      // Each dispatched entry keeps one reserved slot until it is settled.
      this.deps.slots.release(count - entries.length);
      if (cursor === '>') {
        this.dispatchNew(entries);
      } else if (entries.length === 0) {
        cursor = '>';
      } else {
        try {
          await this.dispatchOwnPending(entries);
          cursor = entries[entries.length - 1]![0];
        } catch (error) {
          // Delivery counts could not be read: give the slots back and read
          // the same pending entries again after a backoff.
          this.deps.slots.release(entries.length);
          failures += 1;
          if (!(await this.recover(error, failures))) break;
        }
      }
    }
  }

  /** Polls until a producer creates the stream, then creates the group on it. */
  private async waitForStream(): Promise<boolean> {
    const { commands, stream, group, missingStream, logger } = this.deps;
    while (!this.isStopping) {
      try {
        const state = await ensureGroup(commands, stream, group, '0', missingStream);
        if (state !== 'missing-stream') {
          logger.log(`Stream "${stream}" appeared; group "${group}" reads it from the beginning.`);
          return true;
        }
      } catch (error) {
        if (error instanceof StreamConfigurationError) {
          logger.error(error.message);
          this.deps.onFatal(error);
          return false;
        }
        logger.warn(`Stream "${stream}" group "${group}": cannot check the stream (${describeError(error)}).`);
      }
      await this.pause(this.deps.streamWaitIntervalMs);
    }
    return false;
  }

  /**
   * Reads on the blocking connection. A read that connection loses (Redis
   * restarted, CLIENT KILL) fails at once with ConnectionLostError: ioredis
   * would otherwise leave it unsettled for good, and the loop would hang
   * until the watchdog.
   *
   * @returns null when stopping before the read was sent
   */
  private async read(cursor: string, count: number): Promise<ReadReply> {
    const { group, consumer, stream, options } = this.deps;
    const connection = this.connection;
    // Never queue a read while disconnected: sent after the reconnect, it would
    // hand entries to a call nobody awaits any more.
    await connection.whenReady(this.stopping.signal);
    if (this.isStopping) return null;
    const epoch = connection.epoch;
    if (this.blockingClientId === undefined) {
      // Known before blocking, so that close() can interrupt the read with
      // CLIENT UNBLOCK from the other connection.
      const id = await connection.send('CLIENT ID', (redis) => redis.client('ID'), epoch);
      if (connection.epoch !== epoch) throw new ConnectionLostError('CLIENT ID');
      this.blockingClientId = id;
      if (this.isStopping) return null;
    }
    if (cursor !== '>') {
      return connection.send(
        'XREADGROUP',
        (redis) => redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, cursor) as Promise<ReadReply>,
        epoch,
      );
    }
    this.isBlocked = true;
    const reading = connection.send(
      'XREADGROUP',
      (redis) =>
        redis.xreadgroup(
          'GROUP', group, consumer, 'COUNT', count, 'BLOCK', options.blockMs, 'STREAMS', stream, '>',
        ) as Promise<ReadReply>,
      epoch,
    );
    return this.watch(reading).finally(() => {
      this.isBlocked = false;
    });
  }

  /**
   * Guards against a read that never returns (a half-open TCP connection):
   * past twice the block time, the connection is dropped and reopened.
   */
  private async watch(reading: Promise<ReadReply>): Promise<ReadReply> {
    const limitMs = this.deps.options.blockMs * 2 + 1_000;
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`XREADGROUP did not return within ${limitMs} ms`)), limitMs);
    });
    try {
      return await Promise.race([reading, watchdog]);
    } catch (error) {
      if (this.deps.blocking.status === 'ready' && !this.isStopping && (error as Error).message.startsWith('XREADGROUP did not return')) {
        this.deps.logger.warn(`Stream "${this.deps.stream}" group "${this.deps.group}": blocking read hung; reconnecting its connection.`);
        reading.catch(() => undefined);
        // Dropped at once: a polite disconnect() sends a FIN that a dead peer
        // never answers, and ioredis waits 2 s before destroying the socket.
        this.deps.blocking.stream.destroy();
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private dispatchNew(entries: Array<[string, string[] | null]>): void {
    const { slots, processor } = this.deps;
    for (const [id, flat] of entries) {
      this.lastSeenId = id;
      // A new entry cannot have been deleted between XADD and this read in a
      // way Redis reports, but a null here must never reach a handler.
      if (flat === null) {
        this.deps.acker.ack(id);
        slots.release();
        continue;
      }
      processor.process(id, flat, 1);
    }
  }

  private async dispatchOwnPending(entries: Array<[string, string[] | null]>): Promise<void> {
    const { commands, stream, group, consumer, slots, processor, logger } = this.deps;
    const first = entries[0]![0];
    const last = entries[entries.length - 1]![0];
    const pending = (await commands.xpending(stream, group, first, last, entries.length, consumer)) as Array<
      [string, string, number, number]
    >;
    const deliveries = new Map(pending.map(([id, , , count]) => [id, count]));
    for (const [id, flat] of entries) {
      if (flat === null) {
        logger.warn(`Stream "${stream}" group "${group}": pending entry ${id} was deleted or trimmed; removing it from the pending list.`);
        this.deps.acker.ack(id);
        slots.release();
        continue;
      }
      processor.process(id, flat, deliveries.get(id) ?? 1);
    }
  }

  /**
   * Decides what a failed read means: recreate a vanished group, stop on
   * configuration errors, otherwise back off and try again.
   *
   * @returns whether the loop should continue
   */
  private async recover(error: unknown, failures: number): Promise<boolean> {
    const { stream, group, logger, commands, missingStream } = this.deps;
    if (isConfigurationError(error)) {
      const fatal = asConfigurationError(error, stream, group);
      logger.error(fatal.message);
      this.deps.onFatal(fatal);
      return false;
    }
    if (isGroupGone(error)) {
      logger.warn(
        `Stream "${stream}" group "${group}": the stream or group vanished (NOGROUP); recreating the group after ${this.lastSeenId}.`,
      );
      try {
        const state = await ensureGroup(commands, stream, group, this.lastSeenId, missingStream);
        if (state === 'missing-stream') {
          await this.pause(this.deps.streamWaitIntervalMs);
        }
        return true;
      } catch (recreateError) {
        if (recreateError instanceof StreamConfigurationError) {
          logger.error(recreateError.message);
          this.deps.onFatal(recreateError);
          return false;
        }
        error = recreateError;
      }
    }
    const delayMs = reconnectDelayMs(failures);
    if (error instanceof ConnectionLostError) {
      logger.warn(
        `Stream "${stream}" group "${group}": the reader's connection dropped (${error.message}); reading again once it is back.`,
      );
    } else {
      logger.warn(
        `Stream "${stream}" group "${group}": read failed (${describeError(error)}); retrying in ${delayMs} ms.`,
      );
    }
    await this.pause(delayMs);
    return true;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeFromPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wakeFromPause: () => void = () => undefined;

  /**
   * Ends a blocked read early (it returns empty), so that the slots it holds
   * become free; used when the reclaimer has due entries and no slot for them.
   */
  interrupt(): void {
    const { commands } = this.deps;
    if (!this.isBlocked || this.blockingClientId === undefined || commands.status !== 'ready') return;
    commands.client('UNBLOCK', this.blockingClientId).catch((error: unknown) => {
      this.deps.logger.debug?.(`Stream "${this.deps.stream}": CLIENT UNBLOCK failed (${describeError(error)}).`);
    });
  }

  private async unblock(): Promise<void> {
    this.wakeFromPause();
    const { blocking, commands } = this.deps;
    if (!this.isBlocked) return;
    // CLIENT UNBLOCK makes the read return empty, so no entry is handed to a
    // read nobody will process; a dropped connection would not guarantee that.
    if (this.blockingClientId !== undefined && commands.status === 'ready') {
      try {
        await commands.client('UNBLOCK', this.blockingClientId);
        return;
      } catch (error) {
        this.deps.logger.warn(`Stream "${this.deps.stream}": CLIENT UNBLOCK failed (${describeError(error)}); dropping the reader's connection instead.`);
      }
    }
    blocking.disconnect();
  }
}
