/** How the delay before the next delivery of a failed entry grows. */
export type RetryStrategy = 'exponential' | 'fixed';

/** Delay between deliveries of a failed entry. */
export interface RetryOptions {
  /**
   * `exponential` doubles the delay with each delivery; `fixed` keeps it at `baseDelayMs`.
   *
   * @defaultValue 'exponential'
   */
  strategy?: RetryStrategy;
  /**
   * Delay after the first failed delivery (capped at `maxDelayMs`).
   *
   * @defaultValue 1000
   */
  baseDelayMs?: number;
  /**
   * Largest delay; also the longest delay `ctx.retry(delayMs)` can ask for.
   * At most `claimIdleMs`: a failed entry waits as an idle pending entry on its
   * consumer and becomes claimable by the whole group when its delay is over.
   *
   * @defaultValue the stream's `claimIdleMs`
   */
  maxDelayMs?: number;
  /**
   * Random share of the delay to add or remove, 0 to 1, so that retries of many
   * entries spread out.
   *
   * @defaultValue 0.2
   */
  jitter?: number;
}
