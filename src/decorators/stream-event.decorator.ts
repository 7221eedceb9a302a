import { EventPattern } from '@nestjs/microservices';
import { REDIS_STREAMS_TRANSPORT } from '../constants.js';
import type { StreamHandlerOptions } from '../interfaces/server-options.interface.js';
import { streamPattern } from '../routing/stream-route.js';

/**
 * Binds a handler to a stream of this transport only, with typed per-handler
 * options. Same as `@EventPattern<string>('stream:<key>', REDIS_STREAMS_TRANSPORT, options)`.
 *
 * @param stream - the stream key, without the `stream:` prefix
 * @param options - per-handler overrides of the server options
 * @example
 * ```ts
 * @StreamEvent('orders', { concurrency: 1 })
 * async onOrder(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext) {}
 * ```
 */
export function StreamEvent(stream: string, options: StreamHandlerOptions = {}): MethodDecorator {
  return EventPattern<string>(streamPattern(stream), REDIS_STREAMS_TRANSPORT, { ...options });
}
