import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError, redisReplyKind } from '../../errors/redis-reply.js';
import { asConfigurationError } from './consumer-group.js';
import { parseClaimReply, type ClaimReply } from './claim-reply.js';
import type { EntryProcessor } from './entry-processor.js';
import type { StreamScope } from './stream-scope.js';

/** XPENDING extended form: [id, consumer, idle ms, deliveries]. */
type PendingRow = [string, string, number, number];

/** What a reclaimer needs besides its stream's scope; one per stream. */
export interface PendingReclaimerDeps {
  readonly idleConsumerCleanupMs: number;
  readonly processor: EntryProcessor;
  /** Called when a scan finds the stream unusable (WRONGTYPE, NOPERM); everything on the stream stops. */
  readonly onFatal: (error: Error) => void;
}

/**
 * Keeps pending entries moving for one stream, on a timer: claims entries idle
 * for `claimIdleMs` (failed ones whose retry delay is over, and those abandoned
 * by dead consumers), renews the lease on entries this consumer is still
 * handling, and deletes idle consumers that own nothing.
 *
 * Every claim goes through XCLAIM with a minimum idle time, which Redis checks
 * atomically: when several consumers race for an entry, exactly one gets it.
 */
export class PendingReclaimer {
  private timer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private isStopping = false;
  private lastCleanup = Date.now();

  constructor(
    private readonly scope: StreamScope,
    private readonly deps: PendingReclaimerDeps,
  ) {}

  /** Starts the timers. */
  start(): void {
    const { claimIntervalMs, claimIdleMs } = this.scope.options;
    this.timer = setInterval(() => {
      void this.tick();
    }, claimIntervalMs);
    this.leaseTimer = setInterval(
      () => {
        void this.renewLeases();
      },
      Math.max(1, Math.floor(claimIdleMs / 3)),
    );
    this.timer.unref();
    this.leaseTimer.unref();
  }

  /**
   * Stops claiming and waits for a scan under way. Lease renewal goes on, so
   * handlers still running during shutdown keep their entries.
   */
  async stopClaiming(): Promise<void> {
    this.isStopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Stops renewing leases; the entries of handlers still running become claimable in time. */
  stopLeases(): void {
    clearInterval(this.leaseTimer);
  }

  /** Stops every timer at once, without waiting: the stream can no longer be used. */
  stopForGood(): void {
    this.isStopping = true;
    clearInterval(this.timer);
    clearInterval(this.leaseTimer);
  }

  /** Runs one scan now (the timer calls this; tests may too). */
  tick(): Promise<void> {
    if (this.running !== undefined || this.isStopping) return this.running ?? Promise.resolve();
    this.running = this.scan()
      .catch((error: unknown) => this.onScanError(error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async scan(): Promise<void> {
    await this.claimIdle();
    await this.cleanupConsumers();
  }

  /**
   * Claims entries idle for at least claimIdleMs, as many as there are free
   * slots. Failed entries are made idle-enough when their retry delay ends.
   */
  private async claimIdle(): Promise<void> {
    const { commands, stream, group, consumer, slots, options, logger, logPrefix } = this.scope;
    const { processor } = this.deps;
    const minIdleMs = options.claimIdleMs;
    // Look first, without holding slots: most scans find nothing due.
    const rows = (await commands.call(
      'XPENDING',
      stream,
      group,
      'IDLE',
      minIdleMs,
      '-',
      '+',
      slots.capacity + processor.inFlight.size,
    )) as PendingRow[];
    const handling = new Set(processor.inFlight.ids());
    const due = rows.filter(([id]) => !handling.has(id));
    if (due.length === 0) return;
    const granted = await slots.takeUrgent(due.length, options.claimIntervalMs);
    if (granted === 0) return;
    let claimed = 0;
    let reply: ClaimReply | undefined;
    try {
      const chosen = due.slice(0, granted);
      const previous = new Map(chosen.map(([id, holder, , count]) => [id, { holder, count }]));
      const requested = chosen.map(([id]) => id);
      reply = parseClaimReply(await commands.xclaim(stream, group, consumer, minIdleMs, ...requested), requested);
      for (const [id, flat] of reply.entries) {
        claimed += 1;
        const before = previous.get(id);
        logger.debug?.(`${logPrefix} claimed entry ${id} from consumer "${before?.holder}" (idle over ${minIdleMs} ms).`);
        processor.process(id, flat, (before?.count ?? 0) + 1);
      }
    } finally {
      slots.release(granted - claimed);
    }
    if (reply !== undefined && reply.possiblyDeleted.length > 0) await this.dropDeleted(reply.possiblyDeleted);
  }

  /** Acknowledges the ids among these that no longer exist in the stream (Redis 6.2 keeps them pending). */
  private async dropDeleted(ids: readonly string[]): Promise<void> {
    const { commands, stream, group, logger, logPrefix } = this.scope;
    const exists = await Promise.all(ids.map(async (id) => (await commands.xrange(stream, id, id)).length > 0));
    const deleted = ids.filter((_, i) => !exists[i]);
    if (deleted.length === 0) return;
    logger.warn(
      `${logPrefix} pending entr${deleted.length === 1 ? 'y' : 'ies'} ${deleted.join(', ')} deleted or trimmed; removing from the pending list.`,
    );
    await commands.xack(stream, group, ...deleted);
  }

  private async renewLeases(): Promise<void> {
    const { scripts, stream, group, consumer, options, logger, logPrefix } = this.scope;
    const { processor } = this.deps;
    if (processor.inFlight.size === 0) return;
    const now = Date.now();
    const threshold = options.claimIdleMs / 3;
    const stale = processor.inFlight.entries().filter((entry) => now - entry.renewedAt >= threshold);
    if (stale.length === 0) return;
    try {
      await scripts.renewLease(stream, group, consumer, ...stale.map((entry) => entry.id));
      // An entry settled meanwhile is out of the list; setting its time is harmless.
      for (const entry of stale) entry.renewedAt = now;
    } catch (error) {
      if (isConfigurationError(error)) {
        this.deps.onFatal(asConfigurationError(error, stream, group));
        return;
      }
      logger.warn(`${logPrefix} lease renewal failed (${describeError(error)}); long handlers may be claimed by others.`);
    }
  }

  private async cleanupConsumers(): Promise<void> {
    const { scripts, stream, group, consumer, logger, logPrefix } = this.scope;
    const { idleConsumerCleanupMs } = this.deps;
    if (idleConsumerCleanupMs === 0) return;
    const now = Date.now();
    if (now - this.lastCleanup < Math.min(idleConsumerCleanupMs, 60_000)) return;
    this.lastCleanup = now;
    const deleted = await scripts.deleteIdleConsumers(stream, group, String(idleConsumerCleanupMs), consumer);
    if (deleted.length > 0) {
      logger.log(`${logPrefix} deleted idle consumer(s) with nothing pending: ${deleted.join(', ')}.`);
    }
  }

  private onScanError(error: unknown): void {
    const { stream, group, logger, logPrefix } = this.scope;
    // NOGROUP is the reader's to repair; the next scan will find the new group.
    if (redisReplyKind(error) === 'NOGROUP') return;
    if (isConfigurationError(error)) {
      this.deps.onFatal(asConfigurationError(error, stream, group));
      return;
    }
    logger.warn(`${logPrefix} pending scan failed (${describeError(error)}); will try again.`);
  }
}
