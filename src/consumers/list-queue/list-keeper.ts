import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError } from '../../errors/redis-reply.js';
import { aliveKeyOf, processingKeyOf } from '../../routing/key-names.js';
import type { ListScope } from './list-scope.js';

/** Most entries one recovery or promotion script moves; more take further calls. */
const MOVE_CHUNK = 1_000;

/** How long after a liveness key's expiry the next look runs. */
const LOOK_MARGIN_MS = 10;

/**
 * The bookkeeping of one list queue for this consumer, on timers:
 *
 * - **Liveness.** `SET <alive key> PX claimIdleMs`, renewed every
 *   `claimIdleMs / 3`, and this consumer's name in the list's registry (a set
 *   of names, so that other consumers' processing lists are found without
 *   SCAN, which a cluster could not do in one place).
 * - **Recovery.** On each look, the registry's other consumers whose
 *   liveness key has expired get their processing list put back at the head
 *   of the list, each entry with one more delivery counted (a script that
 *   checks the liveness key again, atomically), and are unregistered. The
 *   next look is due when the first of the live ones' keys would expire
 *   (PTTL), but at least `claimIntervalMs` and at most `claimIdleMs` later:
 *   a consumer that dies is found as soon as its key expires, and an idle
 *   list costs a few commands per `claimIdleMs`, not per second.
 *   On start, this consumer does the same with its own processing list (left
 *   by a crash or an unfinished shutdown) before it takes anything.
 * - **Retries.** Hand-backs wait in the retry sorted set (score: when due, by
 *   Redis' clock; member: the entry wrapped with its delivery count and a
 *   unique id, so identical values never merge), and are moved to the head
 *   of the list when due: at the time this consumer handed one back, and on
 *   every look (which catches those of consumers that died meanwhile).
 */
export class ListKeeper {
  private renewTimer: NodeJS.Timeout | undefined;
  private lookTimer: NodeJS.Timeout | undefined;
  private promoteTimer: NodeJS.Timeout | undefined;
  private promoteAt = Infinity;
  private isStopped = false;
  private looking: Promise<void> | undefined;

  /** Whether this consumer has registered itself (open()). */
  private isRegistered = false;

  /**
   * @param onRecovered - called when a renewal finds this consumer unregistered: its liveness key had
   *   lapsed and another consumer recovered its processing list
   */
  constructor(
    private readonly scope: ListScope,
    private readonly onFatal: (error: Error) => void,
    private readonly onRecovered: () => Promise<void>,
  ) {}

  /**
   * Registers this consumer as alive, then puts its own processing list back
   * at the head of the list (so that it takes those entries first).
   *
   * @returns how many of its own entries were put back
   */
  async open(): Promise<number> {
    await this.renew();
    return this.recoverOwn();
  }

  /** Puts what is in this consumer's processing list back at the head of the list (each with a delivery counted); resolves with how many. */
  async recoverOwn(): Promise<number> {
    const { scripts, keys, consumer } = this.scope;
    let total = 0;
    for (;;) {
      const moved = await scripts.recover(keys, consumer, MOVE_CHUNK, true);
      total += Math.max(0, moved);
      if (moved < MOVE_CHUNK) return total;
    }
  }

  /** Starts the timers. */
  start(): void {
    const { claimIdleMs, claimIntervalMs } = this.scope.options;
    this.renewTimer = setInterval(
      () => void this.renew().catch((error: unknown) => this.report('renew its liveness key', error)),
      Math.max(1, Math.floor(claimIdleMs / 3)),
    );
    this.scheduleLook(Math.min(claimIntervalMs, claimIdleMs));
  }

  /** A retry is due in `delayMs`: move it to the list then. */
  retryDueIn(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.isStopped || at >= this.promoteAt) return;
    clearTimeout(this.promoteTimer);
    this.promoteAt = at;
    this.promoteTimer = setTimeout(() => {
      this.promoteAt = Infinity;
      this.promoteTimer = undefined;
      void this.promote();
    }, delayMs);
  }

  /** Stops the timers and waits for a look under way. */
  async stop(): Promise<void> {
    this.isStopped = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.lookTimer);
    clearTimeout(this.promoteTimer);
    await this.looking;
  }

  /**
   * After a clean shutdown: with nothing left in its processing list, this
   * consumer's liveness key and registration are removed. Otherwise they
   * are left to expire, and whoever looks next (or this consumer, restarted)
   * recovers what is left.
   */
  async leave(): Promise<void> {
    const { commands, keys, consumer } = this.scope;
    if ((await commands.llen(keys.processing)) > 0) return;
    await throwFirst(commands.pipeline().del(keys.alive).srem(keys.registry, consumer).exec());
  }

  private async renew(): Promise<void> {
    const { commands, keys, consumer, options } = this.scope;
    // A pipeline, not MULTI: the two need not be atomic (the ACL rule then needs no MULTI/EXEC).
    const replies = await throwFirst(
      commands.pipeline().set(keys.alive, '1', 'PX', options.claimIdleMs).sadd(keys.registry, consumer).exec(),
    );
    const added = replies[1]?.[1];
    // Back in the registry: a recovery by another consumer had taken this one out.
    if (this.isRegistered && added === 1) await this.onRecovered();
    this.isRegistered = true;
  }

  private scheduleLook(delayMs: number): void {
    if (this.isStopped) return;
    this.lookTimer = setTimeout(() => {
      let nextInMs = this.scope.options.claimIntervalMs;
      this.looking = this.look()
        .then((next) => {
          nextInMs = next;
        })
        .finally(() => {
          this.looking = undefined;
          this.scheduleLook(nextInMs);
        });
    }, delayMs);
  }

  /**
   * Promotes due retries and recovers dead consumers' entries.
   *
   * @returns when to look next (ms)
   */
  private async look(): Promise<number> {
    const { claimIdleMs, claimIntervalMs } = this.scope.options;
    await this.promote();
    try {
      const firstExpiryInMs = await this.recoverDead();
      // A little after the first live key would expire, so that it has expired if not renewed.
      return Math.max(claimIntervalMs, Math.min(claimIdleMs, firstExpiryInMs + LOOK_MARGIN_MS));
    } catch (error) {
      this.report('look for consumers that died', error);
      return claimIntervalMs;
    }
  }

  private async promote(): Promise<void> {
    const { scripts, keys } = this.scope;
    try {
      for (;;) {
        const [moved, nextDueInMs] = await scripts.promote(keys.retry, keys.list, MOVE_CHUNK);
        if (moved >= MOVE_CHUNK) continue;
        if (nextDueInMs >= 0) this.retryDueIn(nextDueInMs);
        return;
      }
    } catch (error) {
      this.report('move due retries to the list', error);
    }
  }

  /** Recovers what consumers whose liveness key expired left; returns the ms until the first live one's key would expire. */
  private async recoverDead(): Promise<number> {
    const { commands, scripts, keys, list, consumer, logger, logPrefix, options } = this.scope;
    const others = (await commands.smembers(keys.registry)).filter((name) => name !== consumer);
    if (others.length === 0 || this.isStopped) return options.claimIdleMs;
    const pipeline = commands.pipeline();
    for (const name of others) pipeline.pttl(aliveKeyOf(list, name));
    const replies = (await pipeline.exec()) ?? [];
    const ttls = others.map((_, i) => (replies[i]?.[0] === null ? Number(replies[i]?.[1]) : NaN));
    // PTTL -2: no such key (expired or never set); -1 would be a key without a TTL, which is left alone.
    const dead = others.filter((_, i) => ttls[i] === -2);
    const firstExpiryInMs = Math.min(options.claimIdleMs, ...ttls.filter((ttl) => ttl >= 0));
    for (const name of dead) {
      const theirs = { alive: aliveKeyOf(list, name), processing: processingKeyOf(list, name), list: keys.list, registry: keys.registry };
      let total = 0;
      for (;;) {
        const moved = await scripts.recover(theirs, name, MOVE_CHUNK, false);
        if (moved <= 0) break;
        total += moved;
        if (moved < MOVE_CHUNK) break;
      }
      if (total > 0) {
        logger.warn(
          `${logPrefix} consumer "${name}" stopped renewing its liveness key; put its ${total} unfinished entr${total === 1 ? 'y' : 'ies'} back at the head of the list.`,
        );
      }
    }
    return firstExpiryInMs;
  }

  private report(what: string, error: unknown): void {
    if (this.isStopped) return;
    const { logger, logPrefix } = this.scope;
    if (isConfigurationError(error)) {
      const fatal = new Error(
        `${logPrefix} could not ${what}: ${describeError(error)}. Check the types of the list's keys and the Redis user's permissions (see the README's list queue section).`,
      );
      logger.error(fatal.message);
      this.onFatal(fatal);
      return;
    }
    logger.warn(`${logPrefix} could not ${what} (${describeError(error)}); trying again later.`);
  }
}

/** Rejects with the first error of a pipeline's replies. */
async function throwFirst(replies: Promise<Array<[Error | null, unknown]> | null>): Promise<Array<[Error | null, unknown]>> {
  const all = (await replies) ?? [];
  for (const [error] of all) if (error) throw error;
  return all;
}
