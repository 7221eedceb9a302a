import { LeaseLostError } from '../../errors/lease-lost.error.js';
import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError, redisReplyKind } from '../../errors/redis-reply.js';
import { asConfigurationError } from './consumer-group.js';
import { parseClaimReply, type ClaimReply } from './claim-reply.js';
import type { EntryProcessor } from './entry-processor.js';
import type { LookOutcome, ScannedStream } from './pending-scanner.js';
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
 * Keeps pending entries moving for one stream, when the pending scanner says
 * so: claims entries idle for `claimIdleMs` (failed ones whose retry delay is
 * over, and those abandoned by dead consumers), renews the lease on entries
 * this consumer is still handling, and deletes idle consumers that own nothing.
 *
 * Every claim goes through XCLAIM with a minimum idle time, which Redis checks
 * atomically: when several consumers race for an entry, exactly one gets it.
 */
export class PendingReclaimer implements ScannedStream {
  private running: Promise<LookOutcome> | undefined;
  /** Looks and cleanups have stopped (shutdown, or the stream failed for good). */
  private isStopping = false;
  /** Lease renewal has stopped. */
  private hasStoppedLeases = false;
  private lastCleanup = Date.now();

  constructor(
    private readonly scope: StreamScope,
    private readonly deps: PendingReclaimerDeps,
  ) {}

  /** How often leases of running handlers are renewed: a third of `claimIdleMs`. */
  get leaseIntervalMs(): number {
    return Math.max(1, Math.floor(this.scope.options.claimIdleMs / 3));
  }

  /**
   * How long a look that found nothing to watch holds: entries that reach a
   * dead consumer after it become claimable `claimIdleMs` after their
   * delivery, so looking again within `claimIdleMs` claims them as early as
   * looking every `claimIntervalMs` would.
   */
  get quietMs(): number {
    return Math.max(this.scope.options.claimIntervalMs, this.scope.options.claimIdleMs);
  }

  /** Whether looks and lease renewals have both stopped; the scanner forgets the stream then. */
  get hasStopped(): boolean {
    return this.isStopping && this.hasStoppedLeases;
  }

  /** Whether looks have stopped (shutdown, or the stream failed for good). */
  get hasStoppedLooking(): boolean {
    return this.isStopping;
  }

  /**
   * Stops looking and waits for a look under way. Lease renewal goes on, so
   * handlers still running during shutdown keep their entries.
   */
  async stopClaiming(): Promise<void> {
    this.isStopping = true;
    await this.running;
  }

  /** Stops renewing leases; the entries of handlers still running become claimable in time. */
  stopLeases(): void {
    this.hasStoppedLeases = true;
  }

  /** Stops everything at once, without waiting: the stream can no longer be used. */
  stopForGood(): void {
    this.isStopping = true;
    this.hasStoppedLeases = true;
  }

  /**
   * Looks at the stream's pending entries now (the scanner calls this; tests
   * may too): an XPENDING summary, and only when it shows entries on other
   * consumers, or own ones that no handler is running, a claim of those
   * idle for `claimIdleMs`. Every so often it also deletes idle consumers.
   *
   * @returns `watched` when there were such entries (look again after
   *   `claimIntervalMs`), `quiet` otherwise (after {@link quietMs})
   */
  look(): Promise<LookOutcome> {
    if (this.running !== undefined) return this.running;
    if (this.isStopping) return Promise.resolve('quiet');
    this.running = this.scan()
      .catch((error: unknown) => this.onScanError(error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async scan(): Promise<LookOutcome> {
    const outcome = (await this.hasClaimable()) ? 'watched' : 'quiet';
    if (outcome === 'watched') await this.claimIdle();
    await this.cleanupConsumers();
    return outcome;
  }

  /**
   * Whether entries may wait to be claimed: pending on another consumer, or
   * on this one beyond the entries its handlers are running (retries, reads
   * whose reply was lost). One XPENDING summary: O(consumers) in Redis.
   */
  private async hasClaimable(): Promise<boolean> {
    const { commands, stream, group, consumer } = this.scope;
    const summary = (await commands.xpending(stream, group)) as [number, unknown, unknown, Array<[string, string]> | null];
    if (Number(summary[0]) === 0) return false;
    let own = 0;
    for (const [name, count] of summary[3] ?? []) {
      if (name !== consumer) return true;
      own = Number(count);
    }
    return own > this.deps.processor.inFlight.size;
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
        const holder = before?.holder;
        processor.process(id, flat, (before?.count ?? 0) + 1, undefined, holder === consumer ? undefined : holder);
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
    this.scope.telemetry.count('deleted', deleted.length);
  }

  /** Renews the lease of entries whose handlers have run for a third of `claimIdleMs` since the last renewal. */
  async renewLeases(): Promise<void> {
    const { scripts, stream, group, consumer, options, logger, logPrefix } = this.scope;
    const { processor } = this.deps;
    if (processor.inFlight.size === 0 || this.hasStoppedLeases) return;
    const now = Date.now();
    const threshold = options.claimIdleMs / 3;
    const stale = processor.inFlight.entries().filter((entry) => now - entry.renewedAt >= threshold);
    if (stale.length === 0) return;
    try {
      const lost = new Set(await scripts.renewLease(stream, group, consumer, ...stale.map((entry) => entry.id)));
      // An entry settled meanwhile is out of the list; setting its time is harmless.
      for (const entry of stale) {
        if (!lost.has(entry.id)) entry.renewedAt = now;
        else if (entry.isListed) entry.loseLease(new LeaseLostError(stream, group, entry.id));
      }
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

  /** Carries out a failed look; returns when to look again. */
  private onScanError(error: unknown): LookOutcome {
    const { stream, group, logger, logPrefix } = this.scope;
    // NOGROUP is the reader's to repair (or the stream is still missing); a
    // group created again has nothing pending.
    if (redisReplyKind(error) === 'NOGROUP') return 'quiet';
    if (isConfigurationError(error)) {
      this.deps.onFatal(asConfigurationError(error, stream, group));
      return 'quiet';
    }
    logger.warn(`${logPrefix} pending scan failed (${describeError(error)}); will try again.`);
    return 'watched';
  }
}
