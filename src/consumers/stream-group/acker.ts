import { describeError } from '../../errors/describe-error.js';
import { reconnectDelayMs } from '../../connection/redis-connection.js';
import type { StreamScope } from './stream-scope.js';

/** A caller waiting for its ack to be confirmed. */
interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Ids taken out of the queue by {@link Acker.take}, for an XACK the caller writes itself. */
export interface AckBatch {
  readonly ids: string[];
  readonly waiters: Waiter[];
}

/**
 * Collects acknowledgements for one stream and sends them as one XACK per
 * turn of the event loop, unless a read takes them first to send them in its
 * own write (see {@link take}). Ids whose XACK fails are kept and sent again,
 * so a dropped connection delays an ack but never loses it.
 */
export class Acker {
  private queued: string[] = [];
  /** Callers of {@link ackConfirmed} whose ids are in {@link queued}. */
  private queuedWaiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private isScheduled = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  /** XACKs written by readers (see {@link take}) and not answered yet. */
  private readonly carried = new Set<Promise<void>>();

  /**
   * @param onQueued - called when the queue stops being empty, so that the
   *   next read can take the ids along
   */
  constructor(
    private readonly scope: StreamScope,
    private readonly onQueued: (acker: Acker) => void = () => undefined,
  ) {}

  /** Queues an id; it is acknowledged with the others of this turn. */
  ack(id: string): void {
    if (this.isClosed) {
      // Shutdown already released this entry to the group; another consumer
      // will handle it again, so acking it from here would be wrong.
      this.scope.logger.debug?.(`${this.scope.logPrefix} late ack of ${id} after close dropped.`);
      return;
    }
    this.queued.push(id);
    if (this.queued.length === 1 && this.retryTimer === undefined) this.onQueued(this);
    if (!this.isScheduled && this.retryTimer === undefined) {
      this.isScheduled = true;
      setImmediate(() => {
        this.isScheduled = false;
        void this.flush();
      });
    }
  }

  /**
   * Queues an id like {@link ack} and resolves once Redis has confirmed its
   * XACK; rejects if the acker closes first (the entry is then delivered again).
   */
  ackConfirmed(id: string): Promise<void> {
    if (this.isClosed) {
      return Promise.reject(new Error(`the server is closing; entry ${id} was not acknowledged and will be delivered again`));
    }
    return new Promise((resolve, reject) => {
      this.ack(id);
      this.queuedWaiters.push({ resolve, reject });
    });
  }

  /** The stream the ids belong to. */
  get stream(): string {
    return this.scope.stream;
  }

  /**
   * Takes every queued id for an XACK the caller writes itself, right before
   * a read and in the same socket write; the caller hands the XACK's reply to
   * {@link settle}. Nothing is taken while earlier XACKs wait for a retry.
   *
   * @returns undefined when nothing is queued
   */
  take(): AckBatch | undefined {
    if (this.queued.length === 0 || this.retryTimer !== undefined || this.isClosed) return undefined;
    const batch = { ids: this.queued, waiters: this.queuedWaiters };
    this.queued = [];
    this.queuedWaiters = [];
    return batch;
  }

  /** Carries out the outcome of the XACK of a batch from {@link take}: confirmed, or queued again. */
  settle(batch: AckBatch, reply: Promise<unknown>): void {
    const done = this.outcome(batch.ids, batch.waiters, reply).finally(() => this.carried.delete(done));
    this.carried.add(done);
  }

  /** Sends every queued id; resolves when they are acknowledged or the attempt failed. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    if (this.queued.length === 0) return Promise.resolve();
    const ids = this.queued;
    const waiters = this.queuedWaiters;
    this.queued = [];
    this.queuedWaiters = [];
    this.flushing = this.send(ids, waiters).finally(() => {
      this.flushing = undefined;
      // Ids queued while this XACK was on the wire go out at once.
      if (this.queued.length > 0 && this.retryTimer === undefined) void this.flush();
    });
    return this.flushing;
  }

  /** Flushes until nothing is queued, or until `deadline` (epoch ms). */
  async drain(deadline: number): Promise<void> {
    this.cancelRetry();
    await Promise.all(this.carried);
    while ((this.queued.length > 0 || this.flushing !== undefined) && Date.now() < deadline) {
      await (this.flushing ?? this.flush());
      if (this.failures > 0 && this.queued.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(reconnectDelayMs(this.failures), deadline - Date.now())));
      }
    }
    if (this.queued.length > 0) {
      this.scope.logger.warn(
        `${this.scope.logPrefix} ${this.queued.length} acknowledgement(s) could not be sent before shutdown; those entries stay pending and will be delivered again.`,
      );
    }
  }

  /** Drops what is still queued and stops retrying; later acks are ignored. */
  close(): void {
    this.isClosed = true;
    this.cancelRetry();
    this.queued = [];
    const waiters = this.queuedWaiters;
    this.queuedWaiters = [];
    for (const waiter of waiters) {
      waiter.reject(new Error(`the server closed before the acknowledgement reached Redis; the entry will be delivered again`));
    }
  }

  private send(ids: string[], waiters: Waiter[]): Promise<void> {
    const { commands, stream, group } = this.scope;
    return this.outcome(ids, waiters, commands.xack(stream, group, ...ids));
  }

  private async outcome(ids: string[], waiters: Waiter[], reply: Promise<unknown>): Promise<void> {
    try {
      await reply;
      this.failures = 0;
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      this.failures += 1;
      if (this.isClosed) {
        for (const waiter of waiters) waiter.reject(new Error(`XACK failed while the server closed; the entry will be delivered again`));
        return;
      }
      this.queued = ids.concat(this.queued);
      this.queuedWaiters = waiters.concat(this.queuedWaiters);
      this.scope.logger.warn(
        `${this.scope.logPrefix} XACK of ${ids.length} entr${ids.length === 1 ? 'y' : 'ies'} failed (${describeError(error)}); retrying.`,
      );
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, reconnectDelayMs(this.failures));
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
