import type { ArgumentsHost } from '@nestjs/common';
import { BaseRpcExceptionFilter } from '@nestjs/microservices';
import { RedisStreamsContext } from '../context/redis-streams.context.js';

type Catch = BaseRpcExceptionFilter['catch'];

let isInstalled = false;

/**
 * Lets the transport see a handler's own error. NestJS' exception layer hands
 * a transport only `{ status: 'error', message: 'Internal server error' }` for
 * anything but an `RpcException`, so retries, logs and `dlq-error` would name
 * that instead of what failed. Every error of a handler reaches the catch of
 * `BaseRpcExceptionFilter` (Nest's default filter, which its handler-level
 * exceptions handler extends, and the base of filters that call
 * `super.catch`): wrapped once, it gives the error to our context, the second
 * argument the handler was called with, then goes on as before. Handlers of
 * other transports (their second argument is not our context) are untouched;
 * what Nest returns and logs is unchanged.
 */
export function captureHandlerErrors(): void {
  if (isInstalled) return;
  isInstalled = true;
  const original: Catch = BaseRpcExceptionFilter.prototype.catch;
  BaseRpcExceptionFilter.prototype.catch = function (this: BaseRpcExceptionFilter, exception: unknown, host: ArgumentsHost) {
    const context: unknown = host.getArgByIndex(1);
    if (context instanceof RedisStreamsContext) context.recordError(exception);
    return original.call(this, exception, host);
  } as Catch;
}
