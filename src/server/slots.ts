/**
 * Counts handler slots for one stream so that no more than `capacity` entries
 * are in flight; readers wait here instead of fetching more.
 */
export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  /** Slots not in use. */
  get free(): number {
    return this.capacity - this.used;
  }

  /** Slots in use. */
  get inUse(): number {
    return this.used;
  }

  /** Takes up to `wanted` slots and returns how many were taken. */
  take(wanted: number): number {
    const taken = Math.max(0, Math.min(wanted, this.free));
    this.used += taken;
    return taken;
  }

  /** Gives back `count` slots and wakes whoever waits. */
  release(count = 1): void {
    this.used -= count;
    if (this.used < 0) this.used = 0;
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once at least one slot is free (at once if one is). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once every slot is free. */
  async whenIdle(): Promise<void> {
    while (this.used > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Wakes every waiter without releasing, so loops can notice they must stop. */
  wakeAll(): void {
    this.release(0);
  }
}
