import type { Redis } from 'ioredis';
import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError, isGroupGone } from '../../errors/redis-reply.js';
import { StreamConfigurationError } from '../../errors/stream-configuration.error.js';
import type { MissingStreamPolicy } from '../../interfaces/server-options.interface.js';
import type { Acker } from './acker.js';
import { asConfigurationError, ensureGroup } from './consumer-group.js';
import type { EntryProcessor } from './entry-processor.js';
import { BlockingRead, type ReadReply } from '../../connection/blocking-read.js';
import { ConnectionLostError, reconnectDelayMs } from '../../connection/redis-connection.js';
import type { StreamScope } from './stream-scope.js';

/** A read on the wire, with the slots reserved for its entries. */
interface PendingRead {
  readonly cursor: string;
  readonly count: number;
  readonly reply: Promise<ReadReply>;
}

/** What a stream reader needs besides its stream's scope. */
export interface StreamReaderDeps {
  readonly missingStream: MissingStreamPolicy;
  readonly streamWaitIntervalMs: number;
  /** Dedicated connection: XREADGROUP BLOCK holds it. */
  readonly blocking: Redis;
  readonly processor: EntryProcessor;
  readonly acker: Acker;
  /** Called, once, when the reader gives up for good (configuration errors); it logs the error. */
  readonly onFatal: (error: Error) => void;
}

/**
 * Reads one stream for one consumer in a single `while` loop: first the
 * consumer's own pending entries (from `0`), then new ones (`>`), never asking
 * for more than the free handler slots.
 */
export class StreamReader {
  /** Aborted by {@link stop}; also ends a pause between attempts. */
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  /** Last id handed to this consumer; a recreated group resumes after it. */
  private lastSeenId: string;
  private readonly reads: BlockingRead;

  constructor(
    private readonly scope: StreamScope,
    private readonly deps: StreamReaderDeps,
    startId: string,
  ) {
    this.lastSeenId = startId;
    const { stream, group, consumer, logger, options } = scope;
    this.reads = new BlockingRead({ stream, group, consumer, blockMs: options.blockMs, blocking: deps.blocking, logger });
  }

  private get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Starts the loop; it runs until {@link stop}.
   *
   * @param hasGroup - false when the stream is missing and the group still has to be created
   */
  start(hasGroup: boolean): void {
    this.loop ??= this.run(hasGroup);
  }

  /** Stops reading, interrupting a blocked XREADGROUP, and waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.scope.slots.wakeAll();
    await this.reads.stop();
    await this.loop;
  }

  private async run(hasGroup: boolean): Promise<void> {
    if (!hasGroup && !(await this.waitForStream())) return;
    const { slots } = this.scope;
    let cursor = '0';
    let failures = 0;
    // A read of new entries sent before the previous batch is dispatched.
    let ahead: PendingRead | undefined;
    // A read already sent is always finished, even when stopping: its entries
    // are delivered to this consumer and must be handled.
    while (!this.isStopping || ahead !== undefined) {
      let read = ahead;
      ahead = undefined;
      if (read === undefined) {
        // Any free slot is worth a read: waiting for more would leave slots
        // idle behind one slow handler.
        await slots.whenFree();
        if (this.isStopping) break;
        read = this.send(cursor);
        if (read === undefined) continue;
      }
      let reply: ReadReply;
      try {
        reply = await read.reply;
        failures = 0;
      } catch (error) {
        slots.release(read.count);
        if (this.isStopping) break;
        failures += 1;
        const keepGoing = await this.recover(error, failures);
        if (!keepGoing) break;
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      // Each dispatched entry keeps one reserved slot until it is settled.
      slots.release(read.count - entries.length);
      if (read.cursor === '>') {
        // While this batch is decoded and handled, the next one travels, as
        // far as free slots allow (none when concurrency equals batchSize).
        if (entries.length > 0 && !this.isStopping) ahead = this.send('>');
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
          slots.release(entries.length);
          failures += 1;
          if (!(await this.recover(error, failures))) break;
        }
      }
    }
  }

  /**
   * Reserves free slots, up to `batchSize`, and sends a read for that many.
   * Slots are reserved before the read, so the reclaimer cannot hand out the
   * same ones while it blocks: in flight never exceeds concurrency.
   *
   * @returns undefined when no slot is free
   */
  private send(cursor: string): PendingRead | undefined {
    const count = this.scope.slots.take(this.scope.options.batchSize);
    if (count === 0) return undefined;
    // Awaited by the loop in the same turn, so a failure is never unhandled.
    return { cursor, count, reply: this.reads.read(cursor, count) };
  }

  /** Polls until a producer creates the stream, then creates the group on it. */
  private async waitForStream(): Promise<boolean> {
    const { commands, stream, group, logger, logPrefix } = this.scope;
    const { missingStream } = this.deps;
    while (!this.isStopping) {
      try {
        const state = await ensureGroup(commands, stream, group, '0', missingStream);
        if (state !== 'missing-stream') {
          logger.log(`Stream "${stream}" appeared; group "${group}" reads it from the beginning.`);
          return true;
        }
      } catch (error) {
        if (error instanceof StreamConfigurationError) {
          this.deps.onFatal(error);
          return false;
        }
        logger.warn(`${logPrefix} cannot check the stream (${describeError(error)}).`);
      }
      await this.pause(this.deps.streamWaitIntervalMs);
    }
    return false;
  }

  private dispatchNew(entries: Array<[string, string[] | null]>): void {
    const { slots } = this.scope;
    const { processor } = this.deps;
    if (entries.length === 0) return;
    this.lastSeenId = entries[entries.length - 1]![0];
    const receivedAt = Date.now();
    for (const [id, flat] of entries) {
      // A new entry cannot have been deleted between XADD and this read in a
      // way Redis reports, but a null here must never reach a handler.
      if (flat === null) {
        this.deps.acker.ack(id);
        slots.release();
        continue;
      }
      processor.process(id, flat, 1, receivedAt);
    }
  }

  private async dispatchOwnPending(entries: Array<[string, string[] | null]>): Promise<void> {
    const { commands, stream, group, consumer, slots, logger, logPrefix } = this.scope;
    const { processor } = this.deps;
    const first = entries[0]![0];
    const last = entries[entries.length - 1]![0];
    const pending = (await commands.xpending(stream, group, first, last, entries.length, consumer)) as Array<
      [string, string, number, number]
    >;
    const deliveries = new Map(pending.map(([id, , , count]) => [id, count]));
    for (const [id, flat] of entries) {
      if (flat === null) {
        logger.warn(`${logPrefix} pending entry ${id} was deleted or trimmed; removing it from the pending list.`);
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
    const { stream, group, logger, commands, logPrefix } = this.scope;
    const { missingStream } = this.deps;
    if (isConfigurationError(error)) {
      this.deps.onFatal(asConfigurationError(error, stream, group));
      return false;
    }
    if (isGroupGone(error)) {
      logger.warn(`${logPrefix} the stream or group vanished (NOGROUP); recreating the group after ${this.lastSeenId}.`);
      try {
        const state = await ensureGroup(commands, stream, group, this.lastSeenId, missingStream);
        if (state === 'missing-stream') {
          await this.pause(this.deps.streamWaitIntervalMs);
        }
        return true;
      } catch (recreateError) {
        if (recreateError instanceof StreamConfigurationError) {
          this.deps.onFatal(recreateError);
          return false;
        }
        error = recreateError;
      }
    }
    const delayMs = reconnectDelayMs(failures);
    if (error instanceof ConnectionLostError) {
      logger.warn(`${logPrefix} the reader's connection dropped (${error.message}); reading again once it is back.`);
    } else {
      logger.warn(`${logPrefix} read failed (${describeError(error)}); retrying in ${delayMs} ms.`);
    }
    await this.pause(delayMs);
    return true;
  }

  /** Waits `ms`, or until {@link stop}. */
  private pause(ms: number): Promise<void> {
    const { signal } = this.stopping;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake);
    });
  }

  /** Ends a blocked read early so its slots free up (see {@link BlockingRead.interrupt}). */
  interrupt(): void {
    this.reads.interrupt();
  }
}
