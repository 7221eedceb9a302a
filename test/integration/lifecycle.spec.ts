import { Controller, Get, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import {
  InvalidOptionsError,
  RedisConnectionError,
  RedisStreamsClient,
  RedisStreamsServer,
  RedisStreamsStatus,
  StreamEvent,
  type RedisStreamsContext,
  type RedisStreamsServerClients,
} from '../../src/index.js';
import { freePort } from '../../sample/local-redis.js';
import { fastOptions, startMicroservice, testClient } from '../support/apps.js';
import { adminClient, pendingCount, redisUrl, uniqueName } from '../support/redis.js';
import { deferred, waitFor } from '../support/wait.js';

const PROBE = 'PROBE';

class Probe {
  seen: Array<{ id: string; deliveries: number }> = [];
  running = 0;
  maxRunning = 0;
  release = deferred();
  started = deferred();
}

describe('server lifecycle', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let probe: Probe;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('life');
    group = uniqueName('g');
    probe = new Probe();
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    redis.disconnect();
  });

  function recorder(options: { gate?: boolean } = {}) {
    @Controller()
    class Recorder {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${stream}`)
      async handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.p.running += 1;
        this.p.maxRunning = Math.max(this.p.maxRunning, this.p.running);
        this.p.started.resolve();
        try {
          if (options.gate) await this.p.release.promise;
          // One turn of the event loop: the rest of the batch starts meanwhile.
          else await new Promise((resolve) => setImmediate(resolve));
          this.p.seen.push({ id: ctx.getMessageId(), deliveries: ctx.getDeliveryCount() });
        } finally {
          this.p.running -= 1;
        }
      }
    }
    return Recorder;
  }

  async function start(controller: new (...args: never[]) => unknown, extra = {}) {
    const started = await startMicroservice([controller], fastOptions({ group, consumer: 'c1', ...extra }), [
      { provide: PROBE, useValue: probe },
    ]);
    closers.push(() => started.app.close());
    return started;
  }

  it('resumes its own pending entries before new ones after a restart under the same name', async () => {
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const left = [await redis.xadd(stream, '*', 'n', '1'), await redis.xadd(stream, '*', 'n', '2')];
    // A previous life of consumer c1 read these and died before acking.
    await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    const fresh = await redis.xadd(stream, '*', 'n', '3');
    await start(recorder(), { concurrency: 1 });
    await waitFor(() => probe.seen.length === 3, { message: 'three entries' });
    expect(probe.seen).toEqual([
      { id: left[0], deliveries: 2 },
      { id: left[1], deliveries: 2 },
      { id: fresh, deliveries: 1 },
    ]);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acks' });
  });

  it('never runs more than `concurrency` handlers with a backlog ten times larger', async () => {
    const concurrency = 4;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const pipeline = redis.pipeline();
    for (let i = 0; i < concurrency * 10; i += 1) pipeline.xadd(stream, '*', 'i', String(i));
    await pipeline.exec();
    await start(recorder(), { concurrency, batchSize: 100 });
    await waitFor(() => probe.seen.length === concurrency * 10, { message: 'backlog drained' });
    expect(probe.maxRunning).toBe(concurrency);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acks' });
  });

  it('with concurrency above batchSize, fills every slot but has Redis deliver no entry past concurrency', async () => {
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const pipeline = redis.pipeline();
    for (let i = 0; i < 30; i += 1) pipeline.xadd(stream, '*', 'i', String(i));
    await pipeline.exec();
    // A batch of 4, then 2 more (read ahead of the first batch's dispatch): 6 in flight.
    await start(recorder({ gate: true }), { concurrency: 6, batchSize: 4 });
    await waitFor(() => probe.running === 6, { message: 'six handlers running' });
    // Redis agrees: exactly `concurrency` entries were delivered, none beyond.
    expect(await pendingCount(redis, stream, group)).toBe(6);
    expect(probe.running).toBe(6);
    probe.release.resolve();
    await waitFor(() => probe.seen.length === 30, { message: 'backlog drained' });
    expect(probe.maxRunning).toBe(6);
    expect(new Set(probe.seen.map((s) => s.id)).size).toBe(30);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acks' });
  });

  it('close() waits for a running handler, acks it, and returns the same promise twice', async () => {
    const { app, server } = await start(recorder({ gate: true }));
    closers.pop();
    await redis.xadd(stream, '*', 'n', '1');
    await probe.started.promise;
    const first = server.close();
    const second = server.close();
    expect(second).toBe(first);
    expect(probe.seen).toHaveLength(0);
    probe.release.resolve();
    await first;
    expect(probe.seen).toHaveLength(1);
    expect(await pendingCount(redis, stream, group)).toBe(0);
    await app.close();
  });

  it('close() interrupts the blocking read at once', async () => {
    const { app } = await start(recorder(), { blockMs: 30_000 });
    closers.pop();
    const startedAt = Date.now();
    await app.close();
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('fails start-up within a few seconds with a clear error when Redis is unreachable', async () => {
    const port = await freePort();
    const startedAt = Date.now();
    const failing = startMicroservice([recorder()], {
      connection: `redis://127.0.0.1:${port}`,
      group,
      connectTimeoutMs: 4_000,
    }, [{ provide: PROBE, useValue: probe }]);
    await expect(failing).rejects.toBeInstanceOf(RedisConnectionError);
    await expect(failing).rejects.toThrow(`127.0.0.1:${port}`);
    await expect(failing).rejects.toThrow('ECONNREFUSED');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('fails start-up with the option named when options are invalid', async () => {
    await expect(startMicroservice([recorder()], { connection: redisUrl(), group: '' }, [{ provide: PROBE, useValue: probe }])).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
    await expect(startMicroservice([recorder()], { connection: redisUrl(), group, concurrency: 0 }, [{ provide: PROBE, useValue: probe }])).rejects.toThrow(
      'Invalid option "concurrency"',
    );
  });

  it('reports status, forwards ioredis events and unwraps its clients', async () => {
    const server = new RedisStreamsServer(fastOptions({ group, consumer: 'c1' }));
    const ready = deferred();
    server.on('ready', () => ready.resolve());
    @Module({ controllers: [recorder()], providers: [{ provide: PROBE, useValue: probe }] })
    class StatusModule {}
    const app = await NestFactory.createMicroservice(StatusModule, { strategy: server, logger: false, abortOnError: false });
    closers.push(() => app.close());
    await app.listen();
    await ready.promise;
    expect(await firstValueFrom(server.status)).toBe(RedisStreamsStatus.CONNECTED);
    const clients = server.unwrap<RedisStreamsServerClients>();
    expect(await clients.commands.ping()).toBe('PONG');
    expect([...clients.readers.keys()]).toEqual([stream]);
  });

  it('runs in a hybrid app: HTTP emits through the client, the stream handler receives', async () => {
    @Controller()
    class HttpAndStream {
      constructor(
        @Inject('ORDERS') private readonly orders: ClientProxy,
        @Inject(PROBE) private readonly p: Probe,
      ) {}
      @Get('order')
      async order(): Promise<{ id: string }> {
        return { id: await lastValueFrom(this.orders.emit<string>(`stream:${stream}`, { sku: 'A1' })) };
      }
      @StreamEvent(stream)
      onOrder(@Payload() _order: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.p.seen.push({ id: ctx.getMessageId(), deliveries: ctx.getDeliveryCount() });
      }
    }
    @Module({
      imports: [ClientsModule.register([{ name: 'ORDERS', customClass: RedisStreamsClient, options: { connection: redisUrl() } }])],
      controllers: [HttpAndStream],
      providers: [{ provide: PROBE, useValue: probe }],
    })
    class HybridModule {}
    const app: INestApplication = await NestFactory.create(HybridModule, { logger: false });
    app.connectMicroservice({ strategy: new RedisStreamsServer(fastOptions({ group, consumer: 'h1' })) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    closers.push(() => app.close());
    const response = await fetch(`${await app.getUrl()}/order`);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^\d+-\d+$/);
    await waitFor(() => probe.seen.some((s) => s.id === id), { message: 'hybrid delivery' });
  });
});

describe('producer client', () => {
  it('rejects send() until request-reply exists, and emit() rejects with the Redis error', async () => {
    const client = testClient();
    const redis = adminClient();
    try {
      await expect(lastValueFrom(client.send('stream:x', { a: 1 }))).rejects.toThrow('not supported yet');
      const key = uniqueName('plain-string');
      await redis.set(key, 'x');
      await expect(lastValueFrom(client.emit(`stream:${key}`, { a: 1 }))).rejects.toThrow('WRONGTYPE');
      await expect(lastValueFrom(client.emit('orders', { a: 1 }))).rejects.toThrow('stream:<key>');
      await expect(lastValueFrom(client.emit('stream:x', null))).rejects.toThrow('invalid data');
      const unobserved = uniqueName('fire-and-forget');
      client.emit(`stream:${unobserved}`, { a: 1 });
      await waitFor(async () => (await redis.xlen(unobserved)) === 1, { message: 'write without a subscriber' });
    } finally {
      await client.close();
      redis.disconnect();
    }
  });

  it('trims approximately with maxLen', async () => {
    const client = new RedisStreamsClient({ connection: redisUrl(), maxLen: 10 });
    const redis = adminClient();
    const stream = uniqueName('trim');
    try {
      for (let i = 0; i < 500; i += 1) await lastValueFrom(client.emit(`stream:${stream}`, { i }));
      expect(await redis.xlen(stream)).toBeLessThan(500);
    } finally {
      await client.close();
      redis.disconnect();
    }
  });
});
