import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { RedisStreamsHealthSnapshot } from '../interfaces/health.interface.js';
import { judgeHealth, type DeadLetterMemory, type HealthVerdict, type RedisStreamsHealthOptions } from './health-check.js';

export type { RedisStreamsHealthOptions } from './health-check.js';

/** A server or client: anything that reports a health snapshot. */
export interface RedisStreamsHealthTarget {
  healthSnapshot(): RedisStreamsHealthSnapshot;
}

/**
 * A Terminus health indicator for a `RedisStreamsServer` or `RedisStreamsClient`.
 * Imported from `nestjs-redis-streams/terminus`, so that the main entry never
 * loads `@nestjs/terminus`.
 *
 * - down: disconnected or reconnecting past `disconnectedGraceMs`, shutting
 *   down, or a reader stopped on an error retrying cannot fix;
 * - degraded (Terminus 12; `up` with `degraded: true` on Terminus 11): past a
 *   threshold of lag, lag age, oldest pending age or dead-letter growth;
 * - up otherwise. The details name the stream and the figure.
 *
 * @example
 * ```ts
 * @Controller('health')
 * class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly streams: RedisStreamsHealthIndicator) {}
 *   @Get() @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.streams.isHealthy('orders', server, { maxLag: 10_000 })]);
 *   }
 * }
 * ```
 */
@Injectable()
export class RedisStreamsHealthIndicator {
  /** Dead-letter lengths at the last check of each key, for the growth threshold. */
  private readonly memories = new Map<string, DeadLetterMemory>();

  constructor(private readonly indicators: HealthIndicatorService) {}

  async isHealthy<const Key extends string>(
    key: Key,
    target: RedisStreamsHealthTarget,
    options?: RedisStreamsHealthOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    let memory = this.memories.get(key);
    if (memory === undefined) {
      memory = new Map();
      this.memories.set(key, memory);
    }
    const verdict = await judgeHealth(target.healthSnapshot(), options, memory);
    const session = this.indicators.check(key);
    const details = detailsOf(verdict);
    if (verdict.status === 'up') return session.up(details);
    if (verdict.status === 'down') return session.down(details);
    // Terminus 11 has no degraded state: up, saying so.
    const degraded = (session as { degraded?: (data: object) => HealthIndicatorResult<Key> }).degraded;
    return typeof degraded === 'function' ? degraded.call(session, details) : session.up({ ...details, degraded: true });
  }
}

function detailsOf(verdict: HealthVerdict): Record<string, unknown> {
  return {
    connection: verdict.connection,
    ...(verdict.reasons.length > 0 ? { reasons: verdict.reasons } : {}),
    ...(Object.keys(verdict.streams).length > 0 ? { streams: verdict.streams } : {}),
  };
}
