import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Server, type CustomTransportStrategy, type MicroserviceOptions } from '@nestjs/microservices';
import type { BenchPayload } from './payload.js';
import { Probe } from './probe.js';
import { KEYS } from './protocol.js';

/** The no-op handler every NestJS contender runs: it only tells the probe it started. */
@Controller()
export class BenchController {
  constructor(private readonly probe: Probe) {}

  /** No-op async event handler: returns a promise, as an `async` handler would. */
  @EventPattern(KEYS.pattern)
  onEvent(@Payload() payload: BenchPayload): Promise<void> {
    this.probe.record(payload);
    return Promise.resolve();
  }
}

/**
 * A transport that does nothing: it lets Nest build its handlers so that the
 * Nest ceiling can call them from a hand-written loop.
 */
export class CeilingServer extends Server implements CustomTransportStrategy {
  /** Ready at once. */
  listen(callback: () => void): void {
    callback();
  }

  /** Nothing to close. */
  close(): void {
    // no connections
  }

  /** No events. */
  on(): void {
    // no events
  }

  /** No client. */
  unwrap<T>(): T {
    throw new Error('CeilingServer has no client');
  }
}

/** Creates (without listening) a Nest microservice whose controller reports to `probe`. */
export async function createBenchApp(probe: Probe, options: MicroserviceOptions): Promise<INestMicroservice> {
  @Module({ controllers: [BenchController], providers: [{ provide: Probe, useValue: probe }] })
  class BenchModule {}
  return NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, { ...options, logger: false });
}
