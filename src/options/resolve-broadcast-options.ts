import { FIRST_ENTRY_ID, isEntryId, normalEntryId } from '../codec/entry-id.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { BroadcastHandlerOptions } from '../interfaces/server-options.interface.js';
import type { ResolvedStreamOptions } from './resolve-stream-group-options.js';
import { resolveEnvelope, type ResolvedEnvelope } from './resolve-envelope.js';
import { wholeNumber } from './validate.js';
import { describeValue, onlyKnownKeys } from './validate-shape.js';

/** The extras a broadcast handler may set. */
export const BROADCAST_OPTION_KEYS = [
  'broadcast',
  'startFrom',
  'batchSize',
  'blockMs',
  'concurrency',
  'envelope',
] as const satisfies ReadonlyArray<keyof BroadcastHandlerOptions>;

/** Options of a consumer group's handlers that mean nothing to a broadcast reader: nothing is pending, acked or retried. */
const GROUP_ONLY_KEYS = ['claimIdleMs', 'claimIntervalMs', 'maxDeliveries', 'retry', 'deadLetter', 'handlerTimeoutMs'];

/**
 * Where a broadcast reader starts: after a known id (`0-0` for the
 * beginning), or after the stream's last id when the server starts.
 */
export type ResolvedBroadcastStart = { readonly after: string } | 'latest';

/** Settings of one broadcast stream: the handler's extras over the server options. */
export interface ResolvedBroadcastOptions {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly concurrency: number;
  readonly start: ResolvedBroadcastStart;
  /** The envelope entries are handed over in; undefined for the payload. */
  readonly envelope: ResolvedEnvelope | undefined;
}

/**
 * Whether a handler's extras ask for a broadcast read (`broadcast: true`).
 *
 * @param prefix - names the option in errors (`@EventPattern("stream:orders") extras: `)
 * @throws InvalidOptionsError when `broadcast` is set to anything but a boolean
 */
export function isBroadcastExtras(extras: Record<string, unknown>, prefix: string): boolean {
  const value = extras.broadcast;
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  throw new InvalidOptionsError(`${prefix}broadcast`, `must be true (read without a consumer group) or false, got ${describeValue(value)}`);
}

/**
 * Fills the defaults of a broadcast handler's extras from the server options
 * and checks them. Options only a consumer group uses are refused, so that
 * nobody believes a broadcast entry is retried or dead-lettered.
 *
 * @param extras - the handler's merged `@EventPattern` extras, `broadcast: true` among them
 * @param base - the server's resolved options (batchSize, blockMs, concurrency fall back to them)
 * @param prefix - names the option in errors (`@EventPattern("stream:orders") extras: `)
 * @throws InvalidOptionsError naming the option and the fix
 */
export function resolveBroadcastOptions(
  extras: Record<string, unknown>,
  base: Pick<ResolvedStreamOptions, 'batchSize' | 'blockMs' | 'concurrency' | 'envelope'>,
  prefix: string,
): ResolvedBroadcastOptions {
  const groupOnly = GROUP_ONLY_KEYS.find((key) => extras[key] !== undefined);
  if (groupOnly !== undefined) {
    throw new InvalidOptionsError(
      `${prefix}${groupOnly}`,
      'does not apply to a broadcast handler: broadcast reads acknowledge, retry and dead-letter nothing (a failed entry is logged and skipped). Remove it, or drop broadcast: true to read the stream through the consumer group.',
    );
  }
  onlyKnownKeys(prefix, extras, BROADCAST_OPTION_KEYS, ' Server-wide options go to the RedisStreamsServer constructor.');
  return {
    batchSize: wholeNumber(`${prefix}batchSize`, extras.batchSize, base.batchSize, 1),
    blockMs: wholeNumber(`${prefix}blockMs`, extras.blockMs, base.blockMs, 1),
    concurrency: wholeNumber(`${prefix}concurrency`, extras.concurrency, base.concurrency, 1),
    start: resolveBroadcastStart(extras.startFrom, `${prefix}startFrom`),
    envelope: resolveEnvelope(extras.envelope, base.envelope, `${prefix}envelope`),
  };
}

/**
 * Checks a broadcast `startFrom`.
 *
 * @throws InvalidOptionsError unless it is 'latest', 'beginning' or an entry id
 */
export function resolveBroadcastStart(value: unknown, option: string): ResolvedBroadcastStart {
  if (value === undefined || value === 'latest') return 'latest';
  if (value === 'beginning') return { after: FIRST_ENTRY_ID };
  if (isEntryId(value)) return { after: normalEntryId(value) };
  throw new InvalidOptionsError(
    option,
    `must be 'latest' (entries added after start-up), 'beginning' or an entry id such as '1700000000000-0' (read the entries after it), got ${describeValue(value)}`,
  );
}
