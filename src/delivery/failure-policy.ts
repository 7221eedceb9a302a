import { describeError } from '../errors/describe-error.js';
import { backoffDelayMs } from '../options/backoff.js';
import type { ResolvedDeliveryPolicy } from '../options/resolve-delivery-policy.js';
import { isUnrecoverable } from './handler-result.js';

/** The part of the delivery policy that decides about failures. */
export type FailurePolicy = Pick<ResolvedDeliveryPolicy, 'maxDeliveries' | 'retry'>;

/** What becomes of an entry whose delivery failed; a consumer carries it out with its own commands. */
export type FailureVerdict =
  | {
      readonly action: 'retry';
      /** How long the entry waits before its next delivery. */
      readonly delayMs: number;
      /** What went wrong, for the log. */
      readonly reason: string;
    }
  | DeadLetterVerdict;

/** The verdict that ends an entry: it goes to the dead-letter stream. */
export interface DeadLetterVerdict {
  readonly action: 'dead-letter';
  /** Why, as the dead-letter record's last error. */
  readonly reason: string;
}

/** What went wrong with one delivery. */
export interface DeliveryFailure {
  /** What the handler's outcome failed with. */
  readonly error: unknown;
  /** The handler's own error, kept through `ctx.recordError()` (Nest's exception layer replaces it); undefined when none was. */
  readonly recordedError: unknown;
}

/**
 * Decides about a failed delivery: an unrecoverable error, or a failure on the
 * last delivery `maxDeliveries` allows, sends the entry to the dead-letter
 * stream; anything else is retried after the backoff delay.
 *
 * @param deliveries - the entry's delivery count, this delivery included (1 on the first)
 * @param random - a source in [0, 1) for the backoff's jitter; injectable for tests
 */
export function judgeFailure(
  deliveries: number,
  failure: DeliveryFailure,
  policy: FailurePolicy,
  random: () => number = Math.random,
): FailureVerdict {
  const reason = describeError(failure.recordedError ?? failure.error);
  if (isUnrecoverable(failure.error) || isUnrecoverable(failure.recordedError)) {
    return { action: 'dead-letter', reason: `unrecoverable: ${reason}` };
  }
  if (isLastDelivery(deliveries, policy)) return { action: 'dead-letter', reason };
  return { action: 'retry', delayMs: backoffDelayMs(deliveries, policy.retry, random), reason };
}

/**
 * Decides, before the handler runs, whether an entry may be delivered at all.
 * An entry comes back after its last allowed delivery only when that delivery
 * never settled (its consumer stopped or hung), so there was no failure to judge.
 *
 * @param deliveries - the entry's delivery count, this delivery included (1 on the first)
 * @returns the dead-letter verdict, or undefined when the handler may run
 */
export function judgeDelivery(deliveries: number, policy: FailurePolicy): DeadLetterVerdict | undefined {
  if (!isLastDelivery(deliveries - 1, policy)) return undefined;
  return {
    action: 'dead-letter',
    reason: `delivered ${deliveries} times, more than maxDeliveries (${policy.maxDeliveries}); its consumer stopped or hung before settling it`,
  };
}

/**
 * The delay of a retry the handler asked for (`ctx.retry(delayMs)`): the one
 * it gave, or else the backoff delay; never longer than `retry.maxDelayMs`
 * (so `Infinity` asks for the longest there is).
 *
 * @param requestedMs - a number of milliseconds >= 0, or undefined for the backoff delay
 * @param random - a source in [0, 1) for the backoff's jitter; injectable for tests
 */
export function retryDelayMs(
  deliveries: number,
  requestedMs: number | undefined,
  policy: FailurePolicy,
  random: () => number = Math.random,
): number {
  return Math.min(requestedMs ?? backoffDelayMs(deliveries, policy.retry, random), policy.retry.maxDelayMs);
}

/** Whether `deliveries` deliveries use up what `maxDeliveries` allows: the one place that compares them. */
function isLastDelivery(deliveries: number, policy: FailurePolicy): boolean {
  return deliveries >= policy.maxDeliveries;
}

/**
 * Checks the delay a handler gives `ctx.retry(delayMs)`: a number of
 * milliseconds ≥ 0, or left out (the backoff delay).
 *
 * @throws RangeError saying what it got (never the payload)
 */
export function checkRetryDelay(delayMs: unknown): void {
  if (delayMs !== undefined && (typeof delayMs !== 'number' || !(delayMs >= 0))) {
    throw new RangeError(
      `ctx.retry(delayMs): delayMs must be a number of milliseconds >= 0, or left out for the backoff delay; got ${typeof delayMs === 'number' ? String(delayMs) : typeof delayMs}.`,
    );
  }
}
