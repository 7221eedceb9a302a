import { Controller, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import type { RedisStreamsContext } from '../../src/index.js';

/** What every generated handler calls, with the stream it is bound to. */
export type StreamEntryHandler = (stream: string, data: unknown, ctx: RedisStreamsContext) => Promise<void> | void;

/**
 * A controller with one `@EventPattern('stream:<key>')` handler per stream
 * (a class cannot declare a thousand methods by name, so the decorators are
 * applied by hand), each calling `handle`, with the extras `extrasOf` gives.
 */
export function streamsController(
  streams: readonly string[],
  handle: StreamEntryHandler,
  extrasOf: (stream: string) => Record<string, unknown> | undefined = () => undefined,
): Type<unknown> {
  class StreamsController {}
  const prototype = StreamsController.prototype as unknown as Record<string, unknown>;
  streams.forEach((stream, i) => {
    const method = `on${i}`;
    prototype[method] = (data: unknown, ctx: RedisStreamsContext) => handle(stream, data, ctx);
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method)!;
    const extras = extrasOf(stream);
    if (extras === undefined) EventPattern<string>(`stream:${stream}`)(prototype, method, descriptor);
    else EventPattern<string>(`stream:${stream}`, extras)(prototype, method, descriptor);
    Payload()(prototype, method, 0);
    Ctx()(prototype, method, 1);
  });
  Controller()(StreamsController);
  return StreamsController;
}

/** What handlers saw, per stream: the ids handled successfully. */
export class HandledEntries {
  private readonly byStream = new Map<string, Set<string>>();
  private total = 0;

  /** Records an entry of `stream` as handled. */
  add(stream: string, id: string): void {
    const ids = this.byStream.get(stream) ?? new Set<string>();
    this.byStream.set(stream, ids);
    if (!ids.has(id)) this.total += 1;
    ids.add(id);
  }

  /** Ids handled on `stream`. */
  of(stream: string): ReadonlySet<string> {
    return this.byStream.get(stream) ?? new Set();
  }

  /** Distinct entries handled over every stream. */
  get count(): number {
    return this.total;
  }
}

/** XPENDING summary counts of `group` on each of `streams`, in one round trip. */
export async function pendingPerStream(redis: Redis, streams: readonly string[], group: string): Promise<number[]> {
  const pipeline = redis.pipeline();
  for (const stream of streams) pipeline.xpending(stream, group);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, summary]) => {
    if (error) throw error;
    return Number((summary as [number, ...unknown[]])[0]);
  });
}

/** Appends `perStream` entries (`n <i>`) to each of `streams` in one pipeline; resolves with their ids per stream. */
export async function addToEach(redis: Redis, streams: readonly string[], perStream: number): Promise<Map<string, string[]>> {
  const pipeline = redis.pipeline();
  for (const stream of streams) for (let i = 0; i < perStream; i += 1) pipeline.xadd(stream, '*', 'n', String(i));
  const replies = (await pipeline.exec()) ?? [];
  const ids = new Map<string, string[]>(streams.map((stream) => [stream, []]));
  let at = 0;
  for (const stream of streams) {
    for (let i = 0; i < perStream; i += 1) {
      const [error, id] = replies[at]!;
      at += 1;
      if (error) throw error;
      ids.get(stream)!.push(id as string);
    }
  }
  return ids;
}
