import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseRpcExceptionFilter } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { RedisStreamsContext } from '../context/redis-streams.context.js';

/**
 * Keeps the handler's original error for the transport's logs and dead
 * letters. Without it Nest hands the transport only "Internal server error"
 * for anything that is not an `RpcException`. Behaves like Nest's default
 * filter otherwise.
 *
 * @example
 * ```ts
 * providers: [{ provide: APP_FILTER, useClass: RedisStreamsExceptionFilter }]
 * ```
 */
@Catch()
export class RedisStreamsExceptionFilter extends BaseRpcExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<unknown> {
    const context: unknown = host.getArgByIndex(1);
    if (context instanceof RedisStreamsContext) context.recordError(exception);
    return super.catch(exception, host) as Observable<unknown>;
  }
}
