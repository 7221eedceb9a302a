import type { RequestAddress } from '../codec/stream-codec.js';
import type { RedisStreamsContext } from './redis-streams.context.js';

/**
 * Runs the bound Nest handler for a decoded payload; resolves or rejects with
 * its outcome. `request` is set for a request entry (`send()`): the invoker
 * answers it, and resolves once its last reply is written, with `true` when
 * that write also acknowledged the entry (then nobody acks it again).
 */
export type HandlerInvoker = (data: unknown, context: RedisStreamsContext, request?: RequestAddress) => Promise<unknown>;
