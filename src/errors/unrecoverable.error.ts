import { RpcException } from '@nestjs/microservices';

/** Marker carried by the error object of an {@link UnrecoverableError}. */
export const UNRECOVERABLE_MARKER = 'nestjs-redis-streams/unrecoverable';

/**
 * Thrown by a handler to send the entry to the dead-letter stream at once,
 * without further retries.
 *
 * It extends `RpcException` so that its marker survives Nest's exception layer,
 * which replaces any other error with a generic "Internal server error".
 *
 * @example
 * ```ts
 * if (!isValid(order)) throw new UnrecoverableError('order has no sku');
 * ```
 */
export class UnrecoverableError extends RpcException {
  constructor(reason: string) {
    super({ status: 'error', message: reason, kind: UNRECOVERABLE_MARKER });
    this.name = 'UnrecoverableError';
  }
}
