import type { Logger } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import type { ListBinding } from '../consumers/list-queue/list-worker.js';
import { resolveStreamOptions, type ResolvedStreamOptions } from '../options/resolve-stream-group-options.js';
import { assertPrefixOnce } from '../routing/key-prefix.js';
import { parsePattern } from '../routing/stream-route.js';
import { mergeHandlerExtras } from './stream-binding.js';

/**
 * Picks the `list:<key>` event handlers out of Nest's handler map and merges
 * each one's `@EventPattern` extras over the server options (the same
 * per-handler options as a stream's: `concurrency`, `batchSize`, `blockMs`,
 * `claimIdleMs`, `claimIntervalMs`, `maxDeliveries`, `retry`, `deadLetter`).
 *
 * @throws InvalidOptionsError when a pattern names no list or extras are invalid
 */
export function bindLists(handlers: ReadonlyMap<string, MessageHandler>, base: ResolvedStreamOptions, logger: Logger): ListBinding[] {
  const bindings: ListBinding[] = [];
  for (const [pattern, handler] of handlers) {
    const route = parsePattern(pattern);
    if (route?.kind !== 'list') continue;
    if (!handler.isEventHandler) {
      logger.warn(`@MessagePattern("${pattern}") is not supported on list queues; use @EventPattern. Handler not bound.`);
      continue;
    }
    const list = route.key;
    bindings.push({
      pattern,
      list,
      handler,
      options: resolveStreamOptions(mergeHandlerExtras(list, handlersOf(handler)), base, `@EventPattern("${pattern}") extras: `),
    });
  }
  return bindings;
}

function handlersOf(head: MessageHandler): MessageHandler[] {
  const handlers: MessageHandler[] = [];
  for (let handler: MessageHandler | undefined = head; handler !== undefined; handler = handler.next) handlers.push(handler);
  return handlers;
}

/**
 * Refuses bound lists and their dead-letter streams whose names already
 * start with the connection's `keyPrefix` (it would be in Redis twice).
 *
 * @throws InvalidOptionsError naming the pattern and the name to use
 */
export function checkListKeyPrefix(bindings: readonly ListBinding[], keyPrefix: string): void {
  for (const { pattern, list, options } of bindings) {
    assertPrefixOnce(keyPrefix, list, pattern);
    assertPrefixOnce(keyPrefix, options.deadLetterStream(list), `${pattern} deadLetter.stream`);
  }
}
