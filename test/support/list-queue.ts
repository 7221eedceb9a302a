import { Controller, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import type { RedisListContext } from '../../src/index.js';
import { listKeysOf, type ListKeys } from '../../src/routing/key-names.js';

/** What a generated list handler calls. */
export type ListEntryHandler = (data: unknown, ctx: RedisListContext) => Promise<void> | void;

/** A controller with one `@EventPattern('list:<list>')` handler calling `handle`. */
export function listController(list: string, handle: ListEntryHandler, extras?: Record<string, unknown>): Type<unknown> {
  class ListController {}
  const prototype = ListController.prototype as unknown as Record<string, unknown>;
  prototype.onEntry = (data: unknown, ctx: RedisListContext) => handle(data, ctx);
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'onEntry')!;
  if (extras === undefined) EventPattern<string>(`list:${list}`)(prototype, 'onEntry', descriptor);
  else EventPattern<string>(`list:${list}`, extras)(prototype, 'onEntry', descriptor);
  Payload()(prototype, 'onEntry', 0);
  Ctx()(prototype, 'onEntry', 1);
  Controller()(ListController);
  return ListController;
}

/** The keys of `list` for `consumer`, as the transport names them. */
export function keysOf(list: string, consumer: string): ListKeys {
  return listKeysOf(list, consumer);
}

/** Every key in Redis that belongs to list queue `list` (the list and everything under its hash tag), sorted. */
export async function listQueueKeys(redis: Redis, list: string): Promise<string[]> {
  const [own, tagged] = await Promise.all([redis.keys(list), redis.keys(`{${list}}:*`)]);
  return [...own, ...tagged].sort();
}

/** Pushes `values` to the tail of `list` in one RPUSH. */
export async function pushAll(redis: Redis, list: string, values: ReadonlyArray<string | Buffer>): Promise<void> {
  for (let at = 0; at < values.length; at += 1_000) await redis.rpush(list, ...values.slice(at, at + 1_000));
}
