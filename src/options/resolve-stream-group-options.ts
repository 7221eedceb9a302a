import { DEFAULT_BATCH_SIZE, DEFAULT_BLOCK_MS, DEFAULT_CLAIM_IDLE_MS, DEFAULT_CLAIM_INTERVAL_MS } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import { resolveDeliveryPolicy, type ResolvedDeliveryPolicy } from './resolve-delivery-policy.js';
import { resolveEnvelope, type ResolvedEnvelope } from './resolve-envelope.js';
import { wholeNumber } from './validate.js';
import { onlyKnownKeys } from './validate-shape.js';

/** Options that can be set per handler of a consumer group: the stream reader's and the delivery policy. */
export const STREAM_OPTION_KEYS = [
  'batchSize',
  'blockMs',
  'concurrency',
  'claimIdleMs',
  'claimIntervalMs',
  'maxDeliveries',
  'retry',
  'deadLetter',
  'handlerTimeoutMs',
  'envelope',
] as const satisfies ReadonlyArray<keyof StreamHandlerOptions>;

/** Settings of one stream reader: server options plus the handler's extras. */
export interface ResolvedStreamOptions extends ResolvedDeliveryPolicy {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly claimIntervalMs: number;
  /** The envelope entries are handed over in; undefined for the payload. */
  readonly envelope: ResolvedEnvelope | undefined;
}

/**
 * Fills the defaults of the options that can be set per handler of a consumer
 * group, over a base: the shared delivery policy, plus how the stream is read
 * and reclaimed. A failed entry waits as an idle pending entry that becomes
 * claimable after `claimIdleMs`, so here no retry delay may be longer than that.
 *
 * @param options - the server options or a handler's extras
 * @param base - what unset values fall back to; given, `options` may hold only per-handler keys
 * @param prefix - names the option in errors (`extras of stream:orders.`)
 * @throws InvalidOptionsError when a value is out of range
 */
export function resolveStreamOptions(
  options: StreamHandlerOptions,
  base: ResolvedStreamOptions | undefined,
  prefix = '',
): ResolvedStreamOptions {
  if (base !== undefined)
    onlyKnownKeys(prefix, options, STREAM_OPTION_KEYS, ' Server-wide options go to the RedisStreamsServer constructor.');
  const claimIdleMs = wholeNumber(`${prefix}claimIdleMs`, options.claimIdleMs, base?.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS, 1);
  // An inherited delay is cut down to a lower claimIdleMs of the handler; one
  // set explicitly above claimIdleMs is refused below.
  const defaultMaxDelayMs = base === undefined ? claimIdleMs : Math.min(base.retry.maxDelayMs, claimIdleMs);
  const policy = resolveDeliveryPolicy(options, base, prefix, defaultMaxDelayMs);
  if (policy.retry.maxDelayMs > claimIdleMs) {
    throw new InvalidOptionsError(
      `${prefix}retry.maxDelayMs`,
      `must not exceed claimIdleMs (${claimIdleMs}): a failed entry is retried by becoming claimable, so raise claimIdleMs for longer delays`,
    );
  }
  return {
    batchSize: wholeNumber(`${prefix}batchSize`, options.batchSize, base?.batchSize ?? DEFAULT_BATCH_SIZE, 1),
    blockMs: wholeNumber(`${prefix}blockMs`, options.blockMs, base?.blockMs ?? DEFAULT_BLOCK_MS, 1),
    concurrency: policy.concurrency,
    claimIdleMs,
    claimIntervalMs: wholeNumber(
      `${prefix}claimIntervalMs`,
      options.claimIntervalMs,
      base?.claimIntervalMs ?? DEFAULT_CLAIM_INTERVAL_MS,
      1,
    ),
    maxDeliveries: policy.maxDeliveries,
    retry: policy.retry,
    deadLetterStream: policy.deadLetterStream,
    deadLetterMaxLen: policy.deadLetterMaxLen,
    handlerTimeoutMs: policy.handlerTimeoutMs,
    envelope: resolveEnvelope(options.envelope, base?.envelope, `${prefix}envelope`),
  };
}
