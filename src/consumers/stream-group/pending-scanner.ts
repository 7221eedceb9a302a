/** What a look at a stream's pending entries found, and so when to look again. */
export type LookOutcome = 'quiet' | 'watched';

/** What the scanner visits: a stream's reclaimer (PendingReclaimer). */
export interface ScannedStream {
  /** How long a quiet look holds. */
  readonly quietMs: number;
  /** How often leases are renewed. */
  readonly leaseIntervalMs: number;
  /** Looks and leases have both stopped: the scanner forgets it. */
  readonly hasStopped: boolean;
  /** Looks have stopped (leases may go on). */
  readonly hasStoppedLooking: boolean;
  /** One look; never rejects. */
  look(): Promise<LookOutcome>;
  /** One lease renewal; never rejects. */
  renewLeases(): Promise<void>;
}

/** When the scanner next visits one stream's reclaimer, for a look and for its leases. */
interface Visit {
  readonly reclaimer: ScannedStream;
  readonly claimIntervalMs: number;
  /** Epoch ms of the next look; Infinity while one runs. */
  lookAt: number;
  leaseAt: number;
  isLooking: boolean;
}

/**
 * One timer for the pending entries of every bound stream of a server,
 * instead of timers per stream. It visits each stream's reclaimer when that
 * stream is due:
 *
 * - a look (see PendingReclaimer.look), one XPENDING summary, after
 *   `claimIntervalMs` while the last look found entries that may need
 *   claiming, and after `max(claimIntervalMs, claimIdleMs)` when it found
 *   none: an idle stream costs one command per `claimIdleMs`, not one per
 *   `claimIntervalMs`; and at once when the stream's own retry falls due
 *   ({@link lookIn});
 * - lease renewal of running handlers every `claimIdleMs / 3` (no command
 *   unless a handler has run that long).
 *
 * The first looks are spread over `claimIntervalMs`, so that many streams do
 * not all look in the same instant.
 */
export class PendingScanner {
  private readonly visits = new Map<ScannedStream, Visit>();
  /** Looks asked for while a look ran: the earliest time asked, per reclaimer. */
  private readonly askedDuringLook = new Map<ScannedStream, number>();
  private timer: NodeJS.Timeout | undefined;
  /** When {@link timer} fires (epoch ms); Infinity when unarmed. */
  private timerAt = Number.POSITIVE_INFINITY;
  private isStarted = false;

  /** Adds a stream's reclaimer; it is first visited within `claimIntervalMs` of {@link start}. */
  add(reclaimer: ScannedStream, claimIntervalMs: number): void {
    const visit = { reclaimer, claimIntervalMs, lookAt: Number.POSITIVE_INFINITY, leaseAt: Number.POSITIVE_INFINITY, isLooking: false };
    this.visits.set(reclaimer, visit);
    if (!this.isStarted) return;
    visit.lookAt = Date.now() + claimIntervalMs;
    visit.leaseAt = Date.now() + reclaimer.leaseIntervalMs;
    this.armAt(Math.min(visit.lookAt, visit.leaseAt));
  }

  /** Starts visiting. */
  start(): void {
    if (this.isStarted) return;
    this.isStarted = true;
    const now = Date.now();
    const count = this.visits.size;
    let index = 0;
    for (const visit of this.visits.values()) {
      index += 1;
      visit.lookAt = now + Math.ceil((visit.claimIntervalMs * index) / count);
      visit.leaseAt = now + visit.reclaimer.leaseIntervalMs;
      this.armAt(Math.min(visit.lookAt, visit.leaseAt));
    }
  }

  /** Asks for a look at a stream within `delayMs` (an entry of it becomes claimable then). */
  lookIn(reclaimer: ScannedStream, delayMs: number): void {
    const visit = this.visits.get(reclaimer);
    if (visit === undefined || !this.isStarted) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (visit.isLooking) {
      // A look is under way; the next one is scheduled when it ends.
      this.askedDuringLook.set(reclaimer, Math.min(this.askedDuringLook.get(reclaimer) ?? at, at));
      return;
    }
    if (at >= visit.lookAt) return;
    visit.lookAt = at;
    this.armAt(at);
  }

  /** Stops every visit. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.isStarted = false;
  }

  /** Makes the timer fire at `at` at the latest. */
  private armAt(at: number): void {
    if (!this.isStarted || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const visit of [...this.visits.values()]) {
      const { reclaimer } = visit;
      if (reclaimer.hasStopped) {
        this.visits.delete(reclaimer);
        continue;
      }
      if (visit.leaseAt <= now) {
        visit.leaseAt = now + reclaimer.leaseIntervalMs;
        void reclaimer.renewLeases();
      }
      if (visit.lookAt <= now) this.look(visit);
      next = Math.min(next, visit.lookAt, visit.leaseAt);
    }
    this.armAt(next);
  }

  private look(visit: Visit): void {
    const { reclaimer } = visit;
    visit.lookAt = Number.POSITIVE_INFINITY;
    if (reclaimer.hasStoppedLooking) return;
    visit.isLooking = true;
    void reclaimer.look().then((outcome) => {
      visit.isLooking = false;
      const delayMs = outcome === 'watched' ? visit.claimIntervalMs : reclaimer.quietMs;
      const asked = this.askedDuringLook.get(reclaimer) ?? Number.POSITIVE_INFINITY;
      this.askedDuringLook.delete(reclaimer);
      visit.lookAt = Math.min(Date.now() + delayMs, asked);
      this.armAt(visit.lookAt);
    });
  }
}
