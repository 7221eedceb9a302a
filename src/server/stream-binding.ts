import type { Logger } from '@nestjs/common';
import type { StreamBinding } from '../consumers/stream-group/stream-worker.js';
import type { MessageHandler } from '@nestjs/microservices';
import { STREAM_PATTERN_PREFIX } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import { describeValue } from '../options/validate-shape.js';
import { resolveStreamOptions, type ResolvedStreamOptions } from '../options/resolve-stream-group-options.js';
import { parsePattern, streamPattern } from '../routing/stream-route.js';
import { assertPrefixOnce } from '../routing/key-prefix.js';

/**
 * Picks the `stream:<key>` handlers (`@EventPattern` and `@MessagePattern`)
 * out of Nest's handler map and merges each one's extras over the server
 * options. Both kinds read the stream through the server's consumer group;
 * the entry says what it is (a request carries a correlation id).
 *
 * @throws InvalidOptionsError when a pattern names no stream, extras are
 *   invalid, or one pattern has both a `@MessagePattern` and `@EventPattern` handlers
 */
export function bindStreams(handlers: ReadonlyMap<string, MessageHandler>, base: ResolvedStreamOptions, logger: Logger): StreamBinding[] {
  const bindings: StreamBinding[] = [];
  for (const [pattern, handler] of handlers) {
    const route = parsePattern(pattern);
    if (route === undefined) {
      logger.debug(`Pattern "${pattern}" has no "${STREAM_PATTERN_PREFIX}" prefix; left to other transports.`);
      continue;
    }
    const stream = route.key;
    const decorator = handler.isEventHandler ? 'EventPattern' : 'MessagePattern';
    if (!handler.isEventHandler && handler.next !== undefined) {
      throw new InvalidOptionsError(
        pattern,
        `has a @MessagePattern handler and @EventPattern handlers. Requests and events of one stream share its consumer group, and NestJS runs the event handlers with every request; bind the events to another stream.`,
      );
    }
    const extras = mergeHandlerExtras(stream, handlersOf(handler));
    bindings.push({
      pattern,
      stream,
      handler,
      options: resolveStreamOptions(extras, base, `@${decorator}("${pattern}") extras: `),
    });
  }
  return bindings;
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
export function checkKeyPrefix(bindings: readonly StreamBinding[], keyPrefix: string): void {
  for (const { pattern, stream, options } of bindings) {
    assertPrefixOnce(keyPrefix, stream, pattern);
    assertPrefixOnce(keyPrefix, options.deadLetterStream(stream), `${pattern} deadLetter.stream`);
  }
}
