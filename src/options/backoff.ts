import type { ResolvedRetryOptions } from './resolve-delivery-policy.js';

/**
 * Delay before attempt `attempt` (1-based): `fixed` stays at the base,
 * `exponential` doubles from it; capped at `maxDelayMs`, then spread by `jitter`
 * (and capped again, so no delay exceeds the maximum).
 *
 * @param random - a source in [0, 1); injectable for tests
 */
export function backoffDelayMs(attempt: number, options: ResolvedRetryOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const raw = options.strategy === 'fixed' ? options.baseDelayMs : options.baseDelayMs * 2 ** exponent;
  const capped = Math.min(raw, options.maxDelayMs);
  const spread = capped * options.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(options.maxDelayMs, Math.round(capped + spread)));
}
