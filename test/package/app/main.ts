// A user's app, built from the packed tarball by test/package/run.ts: once as a
// NestJS 12 ES module, once as a NestJS 11 CommonJS app (`module: commonjs`,
// so this file's imports become require() calls). It is not part of the
// repository's own build; it only sees the package as users install it.
import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Inject, Module, Post } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, MessagePattern, Payload, RpcException, type ClientProxy } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import {
  DEAD_LETTER_FIELDS,
  RedisStreamsClient,
  RedisStreamsContext,
  RedisStreamsExceptionFilter,
  RedisStreamsServer,
  RedisStreamsStatus,
  ReplyTimeoutError,
  StreamEvent,
  UnrecoverableError,
  type RedisStreamsServerClients,
} from 'nestjs-redis-streams';

const REDIS_URL = required('REDIS_URL');
const PREFIX = required('COMPAT_PREFIX');
const ORDERS = `${PREFIX}:orders`;
const FLAKY = `${PREFIX}:flaky`;
const DOOMED = `${PREFIX}:doomed`;
const POISON = `${PREFIX}:poison`;
const SUMS = `${PREFIX}:sums`;
const GROUP = `${PREFIX}-group`;
const TIMEOUT_MS = 20_000;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

interface Order {
  sku: string;
  qty: number;
  note: null;
}

interface Seen {
  payload: unknown;
  id: string;
  stream: string;
  group: string;
  deliveries: number;
  metadata: Record<string, unknown>;
}

/** What the handlers saw, read by main() once the app runs. */
class Journal {
  readonly orders: Seen[] = [];
  readonly flaky: Seen[] = [];
  readonly doomed: Seen[] = [];
  readonly poison: Seen[] = [];
}

function seen(payload: unknown, ctx: RedisStreamsContext): Seen {
  return {
    payload,
    id: ctx.getMessageId(),
    stream: ctx.getStream(),
    group: ctx.getGroup(),
    deliveries: ctx.getDeliveryCount(),
    metadata: ctx.getMetadata(),
  };
}

@Controller()
class OrdersController {
  constructor(
    @Inject('EVENTS') private readonly events: ClientProxy,
    private readonly journal: Journal,
  ) {}

  @Post('orders')
  async create(@Body() order: Order): Promise<{ id: string }> {
    const id = await lastValueFrom(this.events.emit<string>(`stream:${ORDERS}`, order));
    return { id };
  }

  @Post('sum')
  async sum(@Body() numbers: number[]): Promise<{ sum: number }> {
    return lastValueFrom(this.events.send<{ sum: number }>(`stream:${SUMS}`, numbers));
  }

  // Request-reply: answers send('stream:<SUMS>'); a negative number is refused with an RpcException.
  @MessagePattern(`stream:${SUMS}`)
  onSum(@Payload() numbers: number[], @Ctx() ctx: RedisStreamsContext): { sum: number; from: unknown } {
    if (numbers.some((n) => n < 0)) throw new RpcException({ code: 'NEGATIVE' });
    return { sum: numbers.reduce((a, b) => a + b, 0), from: ctx.getMetadata().from };
  }

  @EventPattern<string>(`stream:${ORDERS}`)
  onOrder(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext): void {
    this.journal.orders.push(seen(order, ctx));
  }

  // Typed extras through the package's decorator; fails its first delivery.
  @StreamEvent(FLAKY, { retry: { baseDelayMs: 50, jitter: 0 }, maxDeliveries: 5 })
  async onFlaky(@Payload() payload: unknown, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    this.journal.flaky.push(seen(payload, ctx));
    await Promise.resolve();
    if (ctx.getDeliveryCount() === 1) throw new Error('first delivery fails');
  }

  // Extras through Nest's own decorator; always fails, so it is dead-lettered
  // after its second delivery, with its own error thanks to the exception filter.
  @EventPattern<string>(`stream:${DOOMED}`, { maxDeliveries: 2, retry: { baseDelayMs: 20, jitter: 0 } })
  onDoomed(@Payload() payload: unknown, @Ctx() ctx: RedisStreamsContext): never {
    this.journal.doomed.push(seen(payload, ctx));
    throw new Error(`doomed on delivery ${ctx.getDeliveryCount()}`);
  }

  // An UnrecoverableError goes to the dead-letter stream at once.
  @EventPattern<string>(`stream:${POISON}`)
  onPoison(@Payload() payload: unknown, @Ctx() ctx: RedisStreamsContext): never {
    this.journal.poison.push(seen(payload, ctx));
    throw new UnrecoverableError('poison');
  }
}

@Module({
  imports: [
    ClientsModule.register([
      {
        name: 'EVENTS',
        customClass: RedisStreamsClient,
        // Metadata through a serializer works on NestJS 11 too (setOnDispatchHook is NestJS 12's).
        options: { connection: REDIS_URL, serializer: { serialize: (packet: object) => ({ ...packet, metadata: { from: PREFIX } }) } },
      },
    ]),
  ],
  controllers: [OrdersController],
  providers: [Journal, { provide: APP_FILTER, useClass: RedisStreamsExceptionFilter }],
})
class AppModule {}

/** Polls until `condition` holds; fails after TIMEOUT_MS naming `what`. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function pending(redis: Redis, stream: string): Promise<number> {
  const [count] = (await redis.xpending(stream, GROUP)) as [number, ...unknown[]];
  return Number(count);
}

/** The one entry of the stream's dead-letter stream, as a field map, once it is there. */
async function deadLetter(redis: Redis, stream: string): Promise<Record<string, string>> {
  const key = `{${stream}}:dlq`; // the default dead-letter stream of a key without a hash tag
  await until(`an entry in ${key}`, async () => (await redis.xlen(key)) === 1);
  const [[, flat] = ['', []]] = await redis.xrange(key, '-', '+');
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] ?? ''] = flat[i + 1] ?? '';
  return fields;
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  const server = new RedisStreamsServer({
    connection: REDIS_URL,
    group: GROUP,
    blockMs: 200,
    claimIntervalMs: 50,
    shutdownTimeoutMs: 2_000,
  });
  const statuses: string[] = [];
  server.status.subscribe((status) => statuses.push(status));
  const errors: Error[] = [];
  server.on('error', (error) => errors.push(error));
  // inheritAppConfig: the global exception filter applies to the stream handlers too.
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const admin = new Redis(REDIS_URL);
  try {
    const journal = app.get(Journal);
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    const order: Order = { sku: 'A1', qty: 2, note: null };
    const response = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    assert.equal(response.status, 201, 'POST /orders');
    const { id } = (await response.json()) as { id: string };
    assert.match(id, /^\d+-\d+$/, 'the emit resolves with the entry id');

    await until('the order handler', () => journal.orders.length > 0);
    assert.deepEqual(journal.orders, [{ payload: order, id, stream: ORDERS, group: GROUP, deliveries: 1, metadata: { from: PREFIX } }]);

    const summed = await fetch(`http://127.0.0.1:${port}/sum`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([1, 2, 3]),
    });
    assert.equal(summed.status, 201, 'POST /sum');
    assert.deepEqual(await summed.json(), { sum: 6, from: PREFIX }, 'send() answered by @MessagePattern, with metadata');

    const events = app.get<ClientProxy>('EVENTS');
    await assert.rejects(lastValueFrom(events.send(`stream:${SUMS}`, [-1])), (error: unknown) => {
      assert.deepEqual(error, { code: 'NEGATIVE' }, "an RpcException's payload reaches the caller");
      return true;
    });
    assert.ok(new ReplyTimeoutError(SUMS, 1) instanceof Error, 'ReplyTimeoutError is exported');
    const flakyId = await lastValueFrom(events.emit<string>(`stream:${FLAKY}`, { n: 1 }));
    await until('the flaky entry to be retried', () => journal.flaky.length >= 2);
    assert.deepEqual(
      journal.flaky.map((s) => [s.id, s.deliveries]),
      [
        [flakyId, 1],
        [flakyId, 2],
      ],
      'a handler that throws once is delivered again',
    );

    await lastValueFrom(events.emit(`stream:${DOOMED}`, { n: 2 }));
    const doomed = await deadLetter(admin, DOOMED);
    assert.equal(doomed[DEAD_LETTER_FIELDS.stream], DOOMED, 'the dead letter says where it came from');
    assert.match(doomed[DEAD_LETTER_FIELDS.error] ?? '', /doomed on delivery 2/, "the handler's own error");
    assert.equal(journal.doomed.length, 2, 'maxDeliveries from @EventPattern extras');

    await lastValueFrom(events.emit(`stream:${POISON}`, { n: 3 }));
    await deadLetter(admin, POISON);
    assert.equal(journal.poison.length, 1, 'an UnrecoverableError is not retried');

    for (const stream of [ORDERS, FLAKY, DOOMED, POISON, SUMS]) {
      await until(`XPENDING ${stream} ${GROUP} to be empty`, async () => (await pending(admin, stream)) === 0);
    }

    const clients = server.unwrap<RedisStreamsServerClients>();
    assert.equal(await clients.commands.ping(), 'PONG', 'unwrap() gives the ioredis clients');
    assert.ok(statuses.includes(RedisStreamsStatus.CONNECTED), `status stream: ${statuses.join(', ')}`);
    assert.deepEqual(errors, [], 'no connection errors');
  } finally {
    await app.close();
    await admin.quit();
  }
  assert.equal(statuses.at(-1), RedisStreamsStatus.DISCONNECTED, 'status after close()');
  process.stdout.write(
    `compat app OK (${PREFIX}): emit and send over HTTP, request-reply, metadata, ack, retry, dead letters, exception filter, status, unwrap\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`compat app FAILED (${PREFIX}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
