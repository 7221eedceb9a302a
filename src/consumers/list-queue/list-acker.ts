import { describeError } from '../../errors/describe-error.js';
import { reconnectDelayMs } from '../../connection/redis-client.js';
import type { ListScope } from './list-scope.js';

interface Confirmation {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Removes settled entries from the processing list: every removal of one
 * turn in one script call (LREM each, count 1), sent once the turn's handler
 * continuations have run. A failed call is sent again after a pause, so a
 * settled entry is never left behind while the consumer lives.
 */
export class ListAcker {
  private queued: Buffer[] = [];
  private confirmations: Array<Confirmation | undefined> = [];
  private isScheduled = false;
  private flushing = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly scope: ListScope) {}

  /** Removes `value` (one occurrence) from the processing list, in this turn's call. */
  ack(value: Buffer): void {
    this.enqueue(value, undefined);
  }

  /** As {@link ack}; resolves once Redis confirmed the removal. */
  ackConfirmed(value: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue(value, { resolve, reject }));
  }

  /** Waits for queued and sent removals until `deadline` (epoch ms). */
  async drain(deadline: number): Promise<void> {
    clearTimeout(this.retryTimer);
    if (this.queued.length > 0) this.flush();
    if (this.flushing === 0) return;
    const remaining = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Stops; removals still queued fail (their entries stay in the processing list and are delivered again). */
  close(): void {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    const confirmations = this.confirmations;
    this.queued = [];
    this.confirmations = [];
    for (const confirmation of confirmations) confirmation?.reject(new Error(`${this.scope.logPrefix} closed before the removal was sent`));
  }

  private enqueue(value: Buffer, confirmation: Confirmation | undefined): void {
    if (this.isClosed) {
      confirmation?.reject(new Error(`${this.scope.logPrefix} closed before the removal was sent`));
      return;
    }
    this.queued.push(value);
    this.confirmations.push(confirmation);
    if (this.isScheduled || this.retryTimer !== undefined) return;
    this.isScheduled = true;
    process.nextTick(() => {
      this.isScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const values = this.queued;
    const confirmations = this.confirmations;
    this.queued = [];
    this.confirmations = [];
    this.flushing += 1;
    const { scripts, keys } = this.scope;
    scripts.ack(keys.processing, values).then(
      () => {
        this.failures = 0;
        for (const confirmation of confirmations) confirmation?.resolve();
        this.settled();
      },
      (error: unknown) => {
        this.failures += 1;
        const delayMs = reconnectDelayMs(this.failures);
        this.scope.logger.warn(
          `${this.scope.logPrefix} could not remove ${values.length} settled entr${values.length === 1 ? 'y' : 'ies'} from processing list "${keys.processing}" (${describeError(error)}); trying again in ${delayMs} ms.`,
        );
        if (!this.isClosed) {
          this.queued.unshift(...values);
          this.confirmations.unshift(...confirmations);
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = undefined;
            this.flush();
          }, delayMs);
        }
        this.settled();
      },
    );
  }

  private settled(): void {
    this.flushing -= 1;
    if (this.flushing > 0 || (this.queued.length > 0 && !this.isClosed)) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
