/**
 * Wakes a loop waiting in {@link wait}: once per turn, after the turn's
 * promise continuations (a `nextTick` scheduled from them runs after them),
 * so that handlers finishing together free their slots before the next plan.
 */
export class Pulse {
  private resolve: (() => void) | undefined;
  private isDue = false;
  private isScheduled = false;

  /** Resolves at the next {@link fire} (or the pending one). */
  wait(): Promise<void> {
    if (this.isDue) {
      this.isDue = false;
      return new Promise((resolve) => process.nextTick(resolve));
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Wakes the waiter, or the next one. */
  fire(): void {
    if (this.resolve === undefined) {
      this.isDue = true;
      return;
    }
    if (this.isScheduled) return;
    this.isScheduled = true;
    process.nextTick(() => {
      this.isScheduled = false;
      const resolve = this.resolve;
      this.resolve = undefined;
      resolve?.();
    });
  }
}
