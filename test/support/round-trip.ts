import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { DEAD_LETTER_FIELDS, type RedisConnection, type RedisStreamsContext } from '../../src/index.js';
import { deadLetterKeyOf } from '../../src/routing/key-names.js';
import { fastOptions, type Microservice } from './apps.js';
import { emit } from './produce.js';
import type { Scene } from './scene.js';
import { waitFor } from './wait.js';

const HANDLED = 'ROUND_TRIP_HANDLED';

/** An order of the round trip; `failures` deliveries fail before one succeeds (`always`: none does). */
interface Order {
  readonly n: number;
  readonly failures: number | 'always';
}

/** One successful handling, as the handler saw it. */
export interface Handling {
  readonly n: number;
  readonly deliveries: number;
  /** `ctx.getStream()`: the stream's name as bound, never with a keyPrefix. */
  readonly stream: string;
}

/** Where a round trip runs: how server and client connect, and how to look at Redis. */
export interface RoundTripTarget {
  readonly server: RedisConnection;
  readonly client: RedisConnection;
  /** A plain connection (no keyPrefix) to the same Redis, for looking at keys as they are stored. */
  readonly admin: Redis;
  /** The keyPrefix server and client use; the admin reads keys with it in front. */
  readonly keyPrefix?: string;
  /** How long to wait for each step. */
  readonly timeoutMs?: number;
}

/** What a round trip saw. */
export interface RoundTrip {
  readonly app: Microservice;
  readonly handled: readonly Handling[];
  /** Entry ids as the client's emit() resolved them. */
  readonly ids: { readonly ok: string; readonly retried: string; readonly poison: string };
  /** The stream's key in Redis, prefix included. */
  readonly streamKey: string;
  /** The dead-letter stream's key in Redis, prefix included. */
  readonly deadLetterKey: string;
}

/**
 * The behaviour every topology must keep, run through the public API: a
 * server (group `scene.group`, consumer `c1`) and a client on the given
 * connections; one entry handled at once, one after a failed first delivery,
 * one dead-lettered after `maxDeliveries` (2). Checks, through the admin
 * connection, that nothing stays pending and that the dead letter holds the
 * original fields byte for byte with its origin; returns what it saw.
 */
export async function runRoundTrip(scene: Scene, target: RoundTripTarget): Promise<RoundTrip> {
  const { admin, keyPrefix = '', timeoutMs = 10_000 } = target;
  const stream = scene.stream;
  const handled: Handling[] = [];

  @Controller()
  class OrderHandler {
    constructor(@Inject(HANDLED) private readonly log: Handling[]) {}
    @EventPattern<string>(`stream:${stream}`)
    handle(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext) {
      const deliveries = ctx.getDeliveryCount();
      if (order.failures === 'always' || deliveries <= order.failures) throw new Error(`order ${order.n} failed`);
      this.log.push({ n: order.n, deliveries, stream: ctx.getStream() });
    }
  }

  const app = await scene.start(
    [OrderHandler],
    fastOptions({
      group: scene.group,
      consumer: 'c1',
      connection: target.server,
      maxDeliveries: 2,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
    }),
    [{ provide: HANDLED, useValue: handled }],
  );
  const client = scene.newClient({ connection: target.client });
  const ids = {
    ok: await emit(client, stream, { n: 1, failures: 0 } satisfies Order),
    retried: await emit(client, stream, { n: 2, failures: 1 } satisfies Order),
    poison: await emit(client, stream, { n: 3, failures: 'always' } satisfies Order),
  };

  const streamKey = `${keyPrefix}${stream}`;
  const deadLetterKey = `${keyPrefix}${deadLetterKeyOf(stream)}`;
  await waitFor(() => handled.length === 2, { timeoutMs, message: 'the good entry and the retried one handled' });
  expect(handled).toEqual(
    expect.arrayContaining([
      { n: 1, deliveries: 1, stream },
      { n: 2, deliveries: 2, stream },
    ]),
  );
  await waitFor(async () => (await admin.exists(deadLetterKey)) === 1, { timeoutMs, message: `the dead letter in ${deadLetterKey}` });
  await waitFor(async () => Number(((await admin.xpending(streamKey, scene.group)) as [number])[0]) === 0, {
    timeoutMs,
    message: 'nothing pending',
  });

  const [original] = await admin.xrangeBuffer(streamKey, ids.poison, ids.poison);
  const deadLetters = await admin.xrangeBuffer(deadLetterKey, '-', '+');
  expect(deadLetters).toHaveLength(1);
  const [, deadFlat] = deadLetters[0]!;
  const originalFlat = original![1];
  // The original fields come first, byte for byte; the origin fields follow.
  expect(deadFlat.slice(0, originalFlat.length)).toEqual(originalFlat);
  const origin = new Map<string, string>();
  for (let i = originalFlat.length; i + 1 < deadFlat.length; i += 2) origin.set(deadFlat[i]!.toString(), deadFlat[i + 1]!.toString());
  expect(Object.fromEntries(origin)).toMatchObject({
    [DEAD_LETTER_FIELDS.stream]: stream,
    [DEAD_LETTER_FIELDS.id]: ids.poison,
    [DEAD_LETTER_FIELDS.group]: scene.group,
    [DEAD_LETTER_FIELDS.consumer]: 'c1',
    [DEAD_LETTER_FIELDS.deliveries]: '2',
  });
  return { app, handled, ids, streamKey, deadLetterKey };
}
