import 'reflect-metadata';
import { Controller, Inject, Module, type INestMicroservice, type Type } from '@nestjs/common';
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

/** {@link BenchController}'s handler, bound by broadcast from the beginning of the stream (ours-broadcast). */
@Controller()
export class BroadcastBenchController {
  constructor(private readonly probe: Probe) {}

  /** No-op async event handler, read by broadcast. */
  @EventPattern(KEYS.pattern, { broadcast: true, startFrom: 'beginning' })
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

/**
 * A controller with one no-op handler per stream key, like {@link BenchController}'s,
 * built with the decorators applied by hand (a class cannot declare a
 * thousand methods by name).
 */
export function streamsController(keys: readonly string[]): Type<unknown> {
  class StreamsController {
    constructor(readonly probe: Probe) {}
  }
  Inject(Probe)(StreamsController, undefined, 0);
  const prototype = StreamsController.prototype as unknown as Record<string, unknown>;
  keys.forEach((key, i) => {
    const method = `on${i}`;
    const handler = function (this: StreamsController, payload: BenchPayload): Promise<void> {
      this.probe.record(payload);
      return Promise.resolve();
    };
    prototype[method] = handler;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method)!;
    EventPattern(`stream:${key}`)(prototype, method, descriptor);
    Payload()(prototype, method, 0);
  });
  Controller()(StreamsController);
  return StreamsController;
}

/** {@link BenchController}'s handler bound to the bench list queue instead of the stream. */
export function listBenchController(): Type<unknown> {
  @Controller()
  class ListBenchController {
    constructor(private readonly probe: Probe) {}

    @EventPattern(KEYS.listPattern)
    onEvent(@Payload() payload: BenchPayload): Promise<void> {
      this.probe.record(payload);
      return Promise.resolve();
    }
  }
  return ListBenchController;
}

/**
 * Creates (without listening) a Nest microservice whose controller reports to
 * `probe`: {@link BenchController}, one handler per key of `keys`, or the given controller
 * ({@link BroadcastBenchController} for broadcast, {@link listBenchController} for a list queue).
 */
export async function createBenchApp(
  probe: Probe,
  options: MicroserviceOptions,
  keys?: readonly string[],
  given?: Type<unknown>,
): Promise<INestMicroservice> {
  const controller =
    given ?? (keys === undefined || (keys.length === 1 && keys[0] === KEYS.stream) ? BenchController : streamsController(keys));
  @Module({ controllers: [controller], providers: [{ provide: Probe, useValue: probe }] })
  class BenchModule {}
  return NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, { ...options, logger: false });
}
