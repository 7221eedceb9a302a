import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { RedisStreamsClient, RedisStreamsServer, type RedisStreamsServerOptions } from '../../src/index.js';
import { redisUrl } from './redis.js';

/** Options tests use unless they say otherwise: short timeouts keep the suite fast. */
export function fastOptions(overrides: Partial<RedisStreamsServerOptions> & { group: string }): RedisStreamsServerOptions {
  return {
    connection: redisUrl(),
    blockMs: 200,
    claimIntervalMs: 100,
    shutdownTimeoutMs: 5_000,
    ...overrides,
  };
}

/** Starts a standalone microservice with the given controllers and server options. */
export async function startMicroservice(
  controllers: Type<unknown>[],
  options: RedisStreamsServerOptions,
  providers: Array<{ provide: unknown; useValue: unknown }> = [],
): Promise<{ app: INestMicroservice; server: RedisStreamsServer }> {
  @Module({ controllers, providers: providers as never })
  class TestModule {}
  const server = new RedisStreamsServer(options);
  const app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: false, abortOnError: false });
  await app.listen();
  return { app, server };
}

/** A producer client connected to the suite's Redis. */
export function testClient(): RedisStreamsClient {
  return new RedisStreamsClient({ connection: redisUrl() });
}
