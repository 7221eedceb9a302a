import { BlockingRead } from '../../connection/blocking-read.js';
import { ConnectionLostError, reconnectDelayMs } from '../../connection/redis-connection.js';
import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError } from '../../errors/redis-reply.js';
import type { Redis } from 'ioredis';
import type { ListScope } from './list-scope.js';

/** What a list reader needs besides its scope. */
export interface ListReaderDeps {
  /** The list's dedicated blocking connection (BLMOVE). */
  readonly blocking: Redis;
  /** Starts handling an entry just taken (its slot is held for it). */
  readonly deliver: (stored: Buffer) => void;
  /** The list cannot be read any more (a key of the wrong type, a permission taken away). */
  readonly onFatal: (error: Error) => void;
  /** Sends the removals still queued and waits for them. */
  readonly drainAcks: () => Promise<void>;
  /** Puts whatever is left in this consumer's processing list back at the head of the list; resolves with how many. */
  readonly recoverOwn: () => Promise<number>;
}

/**
 * Takes entries of one list into this consumer's processing list, in one
 * `while` loop, never holding more than `concurrency`:
 *
 * - while the list has entries, up to `min(batchSize, free slots)` per round
 *   trip, with a script (LMOVE each, atomically);
 * - when it is empty, one blocking `BLMOVE list processing LEFT RIGHT` for up
 *   to `blockMs` on the list's own connection, through the blocking-command
 *   helper (interruptible with CLIENT UNBLOCK, watched for a half-open
 *   socket); then batches again.
 *
 * Slots are taken before each command is sent, so entries in the processing
 * list never outnumber free slots. The next batch is asked for while the
 * handlers of the last one run.
 *
 * A take whose reply was lost (the connection dropped after Redis ran it, or
 * ioredis sent it again after a reconnect) leaves entries in the processing
 * list that nobody handles. So after a failed take or a reconnect, the reader
 * waits until this consumer holds nothing (its handlers done, their removals
 * sent), then puts what is left in its processing list back at the head of
 * the list, and goes on.
 */
export class ListReader {
  private readonly reads: BlockingRead;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private wakePause: (() => void) | undefined;
  private mayHaveOrphans = false;

  constructor(
    private readonly scope: ListScope,
    private readonly deps: ListReaderDeps,
  ) {
    const { group, consumer, options, logger, logPrefix } = scope;
    this.reads = new BlockingRead({ logPrefix, as: { group, consumer }, blockMs: options.blockMs, blocking: deps.blocking, logger });
  }

  /** Starts the loop; it runs until {@link stop} or a fatal error. */
  start(): void {
    this.loop ??= this.run().catch((error: unknown) => {
      this.scope.logger.error(`${this.scope.logPrefix} the reader stopped unexpectedly (${describeError(error)}).`);
    });
  }

  /** A connection was lost: a take's reply may have been lost with it (see the class comment). */
  markOrphansPossible(): void {
    this.mayHaveOrphans = true;
  }

  /** Stops taking entries (ending a blocked BLMOVE) and waits for the loop; what it took is delivered. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.pauseTimer);
    this.wakePause?.();
    this.scope.slots.wakeAll();
    await this.reads.stop();
    await this.loop;
  }

  private get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    const { slots, options } = this.scope;
    const batch = Math.min(options.batchSize, options.concurrency);
    // Half a batch free before the next take, so that a full consumer does
    // not take one entry per finished handler.
    const minimumFree = Math.max(1, Math.floor(batch / 2));
    while (!this.isStopping) {
      if (this.mayHaveOrphans && !(await this.recoverOrphans())) continue;
      await slots.whenFree(minimumFree);
      if (this.isStopping) return;
      const wanted = slots.take(Math.min(batch, slots.free));
      if (wanted === 0) continue;
      const taken = await this.take(wanted);
      if (taken === undefined) {
        slots.release(wanted);
        if (!(await this.pause())) return;
        continue;
      }
      this.failures = 0;
      if (taken.length > 0) {
        slots.release(wanted - taken.length);
        for (const stored of taken) this.deps.deliver(stored);
        continue;
      }
      // The list is empty: wait for one entry with the slot kept for it.
      slots.release(wanted - 1);
      const waited = await this.waitForOne();
      if (waited === undefined || waited === null) {
        slots.release(1);
        if (waited === undefined && !(await this.pause())) return;
        continue;
      }
      this.failures = 0;
      this.deps.deliver(waited);
    }
  }

  /**
   * Once this consumer holds nothing, puts what is left in its processing
   * list back at the head of the list; false when that failed or stopping.
   */
  private async recoverOrphans(): Promise<boolean> {
    const { slots, logger, logPrefix } = this.scope;
    await slots.whenIdle();
    if (this.isStopping) return false;
    this.mayHaveOrphans = false;
    try {
      await this.deps.drainAcks();
      const moved = await this.deps.recoverOwn();
      if (moved > 0) {
        logger.warn(
          `${logPrefix} put ${moved} entr${moved === 1 ? 'y' : 'ies'} taken while a connection was lost back at the head of the list.`,
        );
      }
      return true;
    } catch (error) {
      this.mayHaveOrphans = true;
      this.failed(error);
      await this.pause();
      return false;
    }
  }

  /** The take script; undefined after a failure (handled here). */
  private async take(count: number): Promise<Buffer[] | undefined> {
    const { scripts, keys } = this.scope;
    try {
      return await scripts.take(keys.list, keys.processing, count);
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /**
   * One BLMOVE on the blocking connection: the entry, null when none came
   * within `blockMs` (or the wait was interrupted), undefined after a failure.
   */
  private async waitForOne(): Promise<Buffer | null | undefined> {
    const { keys, options } = this.scope;
    try {
      await this.reads.prepare();
      if (this.isStopping) return null;
      return await this.reads.block('BLMOVE', (redis) =>
        redis.blmoveBuffer(keys.list, keys.processing, 'LEFT', 'RIGHT', options.blockMs / 1000),
      );
    } catch (error) {
      if (this.isStopping && error instanceof ConnectionLostError) return null;
      this.failed(error);
      return undefined;
    }
  }

  /** A command failed: a configuration error stops the list for good; anything else pauses and retries. */
  private failed(error: unknown): void {
    const { logger, logPrefix, list, keys } = this.scope;
    this.mayHaveOrphans = true;
    if (isConfigurationError(error)) {
      this.stopping.abort();
      const reason = describeError(error);
      const fatal = new Error(
        `${logPrefix} stopped reading list "${list}": ${reason}. Check that "${list}" and "${keys.processing}" are lists (TYPE) and that the Redis user may use them (see the README's list queue ACL rule).`,
      );
      logger.error(fatal.message);
      this.deps.onFatal(fatal);
      return;
    }
    if (this.isStopping) return;
    this.failures += 1;
    if (error instanceof ConnectionLostError) {
      logger.warn(`${logPrefix} the list reader's connection dropped; reading again once it is back.`);
    } else {
      logger.warn(`${logPrefix} taking entries failed (${describeError(error)}); retrying in ${reconnectDelayMs(this.failures)} ms.`);
    }
  }

  /** Waits out the back-off after a failure; false when stopping (or stopped for good). */
  private pause(): Promise<boolean> {
    if (this.isStopping) return Promise.resolve(false);
    const delayMs = reconnectDelayMs(Math.max(1, this.failures));
    return new Promise((resolve) => {
      this.wakePause = () => resolve(false);
      this.pauseTimer = setTimeout(() => {
        this.wakePause = undefined;
        resolve(!this.isStopping);
      }, delayMs);
    });
  }
}
