import { DEFAULT_CONCURRENCY, DEFAULT_MAX_DELIVERIES, DEFAULT_RETRY_BASE_DELAY_MS, DEFAULT_RETRY_JITTER } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RetryOptions, RetryStrategy } from '../interfaces/retry-options.interface.js';
import type { DeadLetterOptions, StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import { numberInRange, oneOf, wholeNumber } from './validate.js';
import { optionsObject } from './validate-shape.js';
import { deadLetterKeyOf } from '../routing/key-names.js';

/** The options every delivery mode shares: how many at once, how failures are retried, where dead entries go. */
export type DeliveryPolicyOptions = Pick<
  StreamHandlerOptions,
  'concurrency' | 'maxDeliveries' | 'retry' | 'deadLetter' | 'handlerTimeoutMs'
>;

/** The keys of {@link DeliveryPolicyOptions}, for the checks of unknown keys. */
export const DELIVERY_POLICY_KEYS = [
  'concurrency',
  'maxDeliveries',
  'retry',
  'deadLetter',
  'handlerTimeoutMs',
] as const satisfies ReadonlyArray<keyof DeliveryPolicyOptions>;

const RETRY_KEYS = ['strategy', 'baseDelayMs', 'maxDelayMs', 'jitter'] as const satisfies ReadonlyArray<keyof RetryOptions>;
const DEAD_LETTER_KEYS = ['stream', 'maxLen'] as const satisfies ReadonlyArray<keyof DeadLetterOptions>;

/** Retry delay settings with every default filled in. */
export interface ResolvedRetryOptions {
  readonly strategy: RetryStrategy;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** The delivery policy of one handler, every default filled in: what the failure policy and the slots work from. */
export interface ResolvedDeliveryPolicy {
  readonly concurrency: number;
  readonly maxDeliveries: number;
  readonly retry: ResolvedRetryOptions;
  readonly deadLetterStream: (stream: string) => string;
  readonly deadLetterMaxLen: number | undefined;
  /** Longest a handler may run for one entry (ms); 0 for no limit. */
  readonly handlerTimeoutMs: number;
}

/**
 * Fills the defaults of the delivery policy and checks it, over a base (the
 * server's policy, when resolving a handler's extras). The mode says how long
 * a retry delay is by default; any limit of its own it checks itself.
 *
 * @param options - the server options or a handler's extras
 * @param base - what unset values fall back to
 * @param prefix - names the option in errors (`extras of stream:orders.`)
 * @param defaultMaxDelayMs - `retry.maxDelayMs` when `options` leave it unset
 * @throws InvalidOptionsError when a value is out of range
 */
export function resolveDeliveryPolicy(
  options: DeliveryPolicyOptions,
  base: ResolvedDeliveryPolicy | undefined,
  prefix: string,
  defaultMaxDelayMs: number,
): ResolvedDeliveryPolicy {
  const retry = resolveRetry(options.retry, base?.retry, prefix, defaultMaxDelayMs);
  const deadLetter: DeadLetterOptions = optionsObject(
    `${prefix}deadLetter`,
    options.deadLetter,
    DEAD_LETTER_KEYS,
    '{ stream: (source) => `${source}:dead`, maxLen: 10000 }',
  );
  if (deadLetter.stream !== undefined && typeof deadLetter.stream !== 'function') {
    throw new InvalidOptionsError(`${prefix}deadLetter.stream`, 'must be a function from the source stream key to the dead-letter key');
  }
  return {
    concurrency: wholeNumber(`${prefix}concurrency`, options.concurrency, base?.concurrency ?? DEFAULT_CONCURRENCY, 1),
    maxDeliveries: wholeNumber(`${prefix}maxDeliveries`, options.maxDeliveries, base?.maxDeliveries ?? DEFAULT_MAX_DELIVERIES, 1),
    retry,
    deadLetterStream: deadLetter.stream ?? base?.deadLetterStream ?? deadLetterKeyOf,
    deadLetterMaxLen: wholeNumber(`${prefix}deadLetter.maxLen`, deadLetter.maxLen, base?.deadLetterMaxLen ?? 0, 1) || undefined,
    handlerTimeoutMs: wholeNumber(`${prefix}handlerTimeoutMs`, options.handlerTimeoutMs, base?.handlerTimeoutMs ?? 0, 0),
  };
}

function resolveRetry(
  value: unknown,
  base: ResolvedRetryOptions | undefined,
  prefix: string,
  defaultMaxDelayMs: number,
): ResolvedRetryOptions {
  const retry: RetryOptions = optionsObject(`${prefix}retry`, value, RETRY_KEYS, "{ strategy: 'exponential', baseDelayMs: 1000 }");
  const maxDelayMs = wholeNumber(`${prefix}retry.maxDelayMs`, retry.maxDelayMs, defaultMaxDelayMs, 0);
  return {
    strategy: oneOf(`${prefix}retry.strategy`, retry.strategy, base?.strategy ?? 'exponential', ['exponential', 'fixed']),
    baseDelayMs: Math.min(
      wholeNumber(`${prefix}retry.baseDelayMs`, retry.baseDelayMs, base?.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS, 0),
      maxDelayMs,
    ),
    maxDelayMs,
    jitter: numberInRange(`${prefix}retry.jitter`, retry.jitter, base?.jitter ?? DEFAULT_RETRY_JITTER, [0, 1]),
  };
}
