import { Module, type INestMicroservice, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisStreamsClient, RedisStreamsServer, type RedisStreamsServerOptions } from '../../src/index.js';
import { redisUrl } from './redis.js';

/** A value provider for the test module: what controllers record into or call. */
export interface ValueProvider {
  readonly provide: unknown;
  readonly useValue: unknown;
}

/** A microservice and its transport. */
export interface Microservice {
  readonly app: INestMicroservice;
  readonly server: RedisStreamsServer;
}

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

/**
 * Creates (without listening) a standalone microservice with the given
 * controllers, providers and server options; Nest logs nothing unless a
 * `logger` is given.
 */
export async function createMicroservice(
  controllers: Type<unknown>[],
  options: RedisStreamsServerOptions,
  providers: ValueProvider[] = [],
  { logger }: { logger?: LoggerService } = {},
): Promise<Microservice> {
  @Module({ controllers, providers: providers as never })
  class TestModule {}
  const server = new RedisStreamsServer(options);
  const app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: logger ?? false, abortOnError: false });
  return { app, server };
}

/** Starts a standalone microservice with the given controllers and server options. */
export async function startMicroservice(
  controllers: Type<unknown>[],
  options: RedisStreamsServerOptions,
  providers: ValueProvider[] = [],
): Promise<Microservice> {
  const started = await createMicroservice(controllers, options, providers);
  await started.app.listen();
  return started;
}

/** A producer client connected to the suite's Redis. */
export function testClient(): RedisStreamsClient {
  return new RedisStreamsClient({ connection: redisUrl() });
}
