import type { Logger } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { STREAM_PATTERN_PREFIX } from '../redis-streams.constants.js';
import { InvalidOptionsError } from '../errors/redis-streams.error.js';
import type { StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import {
  resolveStreamOptions,
  type ResolvedStreamOptions,
} from '../options/resolve-server-options.js';

/** A stream and the handler bound to it, resolved once at start. */
export interface StreamBinding {
  readonly pattern: string;
  readonly stream: string;
  readonly handler: MessageHandler;
  readonly options: ResolvedStreamOptions;
}

/**
 * Picks the `stream:<key>` event handlers out of Nest's handler map and merges
 * each one's `@EventPattern` extras over the server options.
 *
 * @throws InvalidOptionsError when a pattern names no stream or extras are invalid
 */
export function bindStreams(
  handlers: ReadonlyMap<string, MessageHandler>,
  base: ResolvedStreamOptions,
  logger: Logger,
): StreamBinding[] {
  const bindings: StreamBinding[] = [];
  for (const [pattern, handler] of handlers) {
    if (!pattern.startsWith(STREAM_PATTERN_PREFIX)) {
      logger.debug(`Pattern "${pattern}" has no "${STREAM_PATTERN_PREFIX}" prefix; left to other transports.`);
      continue;
    }
    const stream = pattern.slice(STREAM_PATTERN_PREFIX.length);
    if (stream.length === 0) {
      throw new InvalidOptionsError(pattern, `name a stream after "${STREAM_PATTERN_PREFIX}", e.g. "${STREAM_PATTERN_PREFIX}orders"`);
    }
    if (!handler.isEventHandler) {
      logger.warn(
        `@MessagePattern("${pattern}") is not supported yet (request-reply over streams is planned); use @EventPattern. Handler not bound.`,
      );
      continue;
    }
    const extras = (handler.extras ?? {}) as StreamHandlerOptions;
    bindings.push({
      pattern,
      stream,
      handler,
      options: resolveStreamOptions(extras, base, `@EventPattern("${pattern}") extras: `),
    });
  }
  return bindings;
}
