/**
 * Counts handler slots for one stream so that no more than `capacity` entries
 * are in flight; readers wait here instead of fetching more.
 */
export class Slots {
  private used = 0;
  private waiters: Waiter[] = [];
  private urgent: UrgentWaiter[] = [];
  private freeListener: (() => void) | undefined;

  /**
   * @param onPressure - called when an urgent request finds no free slot (the
   *   reader interrupts its read, so the slots it reserved for it come back)
   */
  constructor(
    readonly capacity: number,
    private readonly onPressure: () => void = () => undefined,
  ) {}

  /** Slots not in use. */
  get free(): number {
    return this.capacity - this.used;
  }

  /** Takes up to `wanted` slots and returns how many were taken. */
  take(wanted: number): number {
    const taken = Math.max(0, Math.min(wanted, this.free));
    this.used += taken;
    return taken;
  }

  /**
   * Takes up to `wanted` slots ahead of ordinary waiters: at once if any is
   * free, else at the next release, or 0 after `timeoutMs`. Used by the
   * reclaimer, whose claims would otherwise starve behind a reader that
   * reserves every free slot for its blocking read.
   */
  takeUrgent(wanted: number, timeoutMs: number): Promise<number> {
    const taken = this.take(wanted);
    if (taken > 0 || wanted <= 0) return Promise.resolve(taken);
    return new Promise((resolve) => {
      const waiter: UrgentWaiter = {
        wanted,
        resolve,
        timer: setTimeout(() => {
          this.urgent = this.urgent.filter((w) => w !== waiter);
          resolve(0);
        }, timeoutMs),
      };
      this.urgent.push(waiter);
      this.onPressure();
    });
  }

  /** Gives back `count` slots and wakes whoever waits, urgent requests first. */
  release(count = 1): void {
    this.used -= count;
    if (this.used < 0) this.used = 0;
    while (this.urgent.length > 0 && this.free > 0) {
      const waiter = this.urgent.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(this.take(waiter.wanted));
    }
    // Checked per waiter, so a reader waiting for half a batch is not woken
    // (and re-parked) by every single finished handler.
    if (this.waiters.length > 0) this.wake((waiter) => this.free >= waiter.minimum);
    const listener = this.freeListener;
    if (listener !== undefined && this.free > 0) {
      this.freeListener = undefined;
      listener();
    }
  }

  /**
   * Calls `listener` once, synchronously, at the first release that leaves a
   * slot free (replacing a listener set before): a cheaper {@link whenFree}
   * for a caller that only needs a nudge.
   */
  onceFree(listener: () => void): void {
    this.freeListener = listener;
  }

  /**
   * Resolves once at least `minimum` slots are free (at once if they are), or
   * at the next {@link wakeAll}.
   */
  whenFree(minimum = 1): Promise<void> {
    const wanted = Math.max(1, Math.min(minimum, this.capacity));
    if (this.free >= wanted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ minimum: wanted, resolve }));
  }

  /** Resolves once every slot is free. */
  whenIdle(): Promise<void> {
    return this.whenFree(this.capacity);
  }

  /** Wakes every waiter now, without releasing, so loops can notice they must stop. */
  wakeAll(): void {
    this.wake(() => true);
  }

  private wake(isDue: (waiter: Waiter) => boolean): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (isDue(waiter)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }
}

interface Waiter {
  readonly minimum: number;
  readonly resolve: () => void;
}

interface UrgentWaiter {
  readonly wanted: number;
  readonly resolve: (taken: number) => void;
  timer: NodeJS.Timeout;
}
