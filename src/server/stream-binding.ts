import type { Logger } from '@nestjs/common';
import type { BroadcastBinding } from '../consumers/broadcast/broadcast-consumer.js';
import type { StreamBinding } from '../consumers/stream-group/stream-worker.js';
import type { MessageHandler } from '@nestjs/microservices';
import { LIST_PATTERN_PREFIX, STREAM_PATTERN_PREFIX } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import { describeValue } from '../options/validate-shape.js';
import { resolveStreamOptions, type ResolvedStreamOptions } from '../options/resolve-stream-group-options.js';
import { isBroadcastExtras, resolveBroadcastOptions } from '../options/resolve-broadcast-options.js';
import { parsePattern, streamPattern } from '../routing/stream-route.js';
import { assertPrefixOnce } from '../routing/key-prefix.js';

/** The bound streams of a server, by mode. */
export interface Bindings {
  /** Read through the consumer group. */
  readonly group: StreamBinding[];
  /** Read by broadcast (`{ broadcast: true }`): plain XREAD, no group. */
  readonly broadcast: BroadcastBinding[];
}

/**
 * Picks the `stream:<key>` handlers (`@EventPattern` and `@MessagePattern`)
 * out of Nest's handler map and merges each one's extras over the server
 * options. Both kinds read the stream through the server's consumer group
 * (the entry says what it is: a request carries a correlation id), except
 * event handlers with `broadcast: true`, bound for broadcast reads.
 *
 * @throws InvalidOptionsError when a pattern names no stream, extras are
 *   invalid, or one pattern has both a `@MessagePattern` and `@EventPattern` handlers
 */
export function bindStreams(handlers: ReadonlyMap<string, MessageHandler>, base: ResolvedStreamOptions, logger: Logger): Bindings {
  const bindings: Bindings = { group: [], broadcast: [] };
  for (const [pattern, handler] of handlers) {
    const route = parsePattern(pattern);
    if (route === undefined) {
      logger.debug(`Pattern "${pattern}" has no "${STREAM_PATTERN_PREFIX}" or "${LIST_PATTERN_PREFIX}" prefix; left to other transports.`);
      continue;
    }
    // List queues are bound by bindLists().
    if (route.kind !== 'stream') continue;
    const stream = route.key;
    const decorator = handler.isEventHandler ? 'EventPattern' : 'MessagePattern';
    if (!handler.isEventHandler && handler.next !== undefined) {
      throw new InvalidOptionsError(
        pattern,
        `has a @MessagePattern handler and @EventPattern handlers. Requests and events of one stream share its consumer group, and NestJS runs the event handlers with every request; bind the events to another stream.`,
      );
    }
    const chained = handlersOf(handler);
    const prefix = `@${decorator}("${pattern}") extras: `;
    const extras = mergeHandlerExtras(stream, chained) as Record<string, unknown>;
    if (isBroadcastPattern(stream, chained, prefix)) {
      if (!handler.isEventHandler) {
        throw new InvalidOptionsError(
          `${prefix}broadcast`,
          'applies to @EventPattern handlers only: a request is answered once, by one server of the group; remove broadcast: true.',
        );
      }
      bindings.broadcast.push({ pattern, stream, handler, options: resolveBroadcastOptions(extras, base, prefix) });
      continue;
    }
    const { broadcast: _broadcast, ...groupExtras } = extras;
    if (groupExtras.startFrom !== undefined) {
      throw new InvalidOptionsError(
        `${prefix}startFrom`,
        `applies to broadcast handlers ({ broadcast: true, startFrom }) only; where the consumer group of stream "${stream}" starts is the server option startFrom.`,
      );
    }
    bindings.group.push({ pattern, stream, handler, options: resolveStreamOptions(groupExtras, base, prefix) });
  }
  return bindings;
}

/**
 * Whether the handlers of one pattern read their stream by broadcast. They
 * share one reader, so they must agree: a stream read through the group by
 * one handler and by broadcast by another would hand some entries to one
 * instance and all of them to every instance, under one pattern.
 *
 * @throws InvalidOptionsError when some set `broadcast: true` and others do not
 */
function isBroadcastPattern(stream: string, handlers: readonly MessageHandler[], prefix: string): boolean {
  const modes = handlers.map((handler) => isBroadcastExtras((handler.extras ?? {}) as Record<string, unknown>, prefix));
  if (modes.every((mode) => mode === modes[0])) return modes[0] ?? false;
  throw new InvalidOptionsError(
    `${prefix}broadcast`,
    `some handlers of stream "${stream}" set broadcast: true and others do not. Handlers of one pattern share one reader: set broadcast: true on all of them or on none. To read a stream both through the group and by broadcast, do it in two apps (or servers).`,
  );
}

/** Every handler Nest chained onto one pattern (a second `@EventPattern` of it becomes `next`). */
function handlersOf(head: MessageHandler): MessageHandler[] {
  const handlers: MessageHandler[] = [];
  for (let handler: MessageHandler | undefined = head; handler !== undefined; handler = handler.next) {
    handlers.push(handler);
  }
  return handlers;
}

/**
 * The extras of all handlers of one stream, which share one reader: an option
 * set by one applies to all; the same option set to different values is refused.
 *
 * @throws InvalidOptionsError naming the stream, the option and both values
 */
export function mergeHandlerExtras(stream: string, handlers: readonly MessageHandler[]): StreamHandlerOptions {
  const merged: Record<string, unknown> = {};
  for (const handler of handlers) {
    const extras = (handler.extras ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(extras)) {
      if (value === undefined) continue;
      const previous = merged[key];
      if (previous === undefined) {
        merged[key] = value;
      } else if (isObject(previous) && isObject(value)) {
        merged[key] = mergeNested(stream, key, previous, value);
      } else if (previous !== value) {
        throw conflict(stream, key, previous, value);
      }
    }
  }
  return merged;
}

function mergeNested(
  stream: string,
  key: string,
  previous: Record<string, unknown>,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...previous };
  for (const [inner, innerValue] of Object.entries(value)) {
    if (innerValue === undefined) continue;
    if (merged[inner] !== undefined && merged[inner] !== innerValue) {
      throw conflict(stream, `${key}.${inner}`, merged[inner], innerValue);
    }
    merged[inner] = innerValue;
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conflict(stream: string, key: string, first: unknown, second: unknown): InvalidOptionsError {
  return new InvalidOptionsError(
    `${streamPattern(stream)} extras: ${key}`,
    `two handlers of stream "${stream}" set it to different values (${describeValue(first)} and ${describeValue(second)}). Handlers of one stream share one reader: give them the same value, or set it on one handler only.`,
  );
}

/**
 * Refuses bound streams and dead-letter streams whose names already start
 * with the connection's `keyPrefix` (it would be in Redis twice).
 *
 * @throws InvalidOptionsError naming the pattern and the name to use
 */
export function checkKeyPrefix(bindings: Bindings, keyPrefix: string): void {
  for (const { pattern, stream, options } of bindings.group) {
    assertPrefixOnce(keyPrefix, stream, pattern);
    assertPrefixOnce(keyPrefix, options.deadLetterStream(stream), `${pattern} deadLetter.stream`);
  }
  for (const { pattern, stream } of bindings.broadcast) assertPrefixOnce(keyPrefix, stream, pattern);
}
