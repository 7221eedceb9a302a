import type { RedisStreamsContext } from './redis-streams.context.js';

/** Runs the bound Nest handler for a decoded payload; resolves or rejects with its outcome. */
export type HandlerInvoker = (data: unknown, context: RedisStreamsContext) => Promise<unknown>;
