import { Controller, Get, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import type { INestApplication } from '@nestjs/common';
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
} from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { freePort } from '../../support/local-redis.js';
import { redisUrl } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

const PROBE = 'PROBE';

class Probe {
  seen: Array<{ id: string; deliveries: number }> = [];
  running = 0;
  maxRunning = 0;
  release = deferred();
  started = deferred();
}

describe('server lifecycle', () => {
  const scene = useScene('life');
  let probe: Probe;

  beforeEach(() => {
    probe = new Probe();
  });

  function recorder(options: { gate?: boolean } = {}) {
    @Controller()
    class Recorder {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${scene.stream}`)
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

  function start(controller: new (...args: never[]) => unknown, extra = {}) {
    return scene.start([controller], fastOptions({ group: scene.group, consumer: 'c1', ...extra }), [{ provide: PROBE, useValue: probe }]);
  }

  it('resumes its own pending entries before new ones after a restart under the same name', async () => {
    const { redis, stream, group } = scene;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const left = [await scene.produce.add('n', '1'), await scene.produce.add('n', '2')];
    // A previous life of consumer c1 read these and died before acking.
    await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    const fresh = await scene.produce.add('n', '3');
    await start(recorder(), { concurrency: 1 });
    await waitFor(() => probe.seen.length === 3, { message: 'three entries' });
    expect(probe.seen).toEqual([
      { id: left[0], deliveries: 2 },
      { id: left[1], deliveries: 2 },
      { id: fresh, deliveries: 1 },
    ]);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acks' });
  });

  it('never runs more than `concurrency` handlers with a backlog ten times larger', async () => {
    const concurrency = 4;
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    await scene.produce.addMany(concurrency * 10, { fields: (i) => ['i', String(i)] });
    await start(recorder(), { concurrency, batchSize: 100 });
    await waitFor(() => probe.seen.length === concurrency * 10, { message: 'backlog drained' });
    expect(probe.maxRunning).toBe(concurrency);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acks' });
  });

  it('with concurrency above batchSize, fills every slot but has Redis deliver no entry past concurrency', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    await scene.produce.addMany(30, { fields: (i) => ['i', String(i)] });
    // A batch of 4, then 2 more (read ahead of the first batch's dispatch): 6 in flight.
    await start(recorder({ gate: true }), { concurrency: 6, batchSize: 4 });
    await waitFor(() => probe.running === 6, { message: 'six handlers running' });
    // Redis agrees: exactly `concurrency` entries were delivered, none beyond.
    expect(await scene.probe.pendingCount()).toBe(6);
    expect(probe.running).toBe(6);
    probe.release.resolve();
    await waitFor(() => probe.seen.length === 30, { message: 'backlog drained' });
    expect(probe.maxRunning).toBe(6);
    expect(new Set(probe.seen.map((s) => s.id)).size).toBe(30);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acks' });
  });

  it('close() waits for a running handler, acks it, and returns the same promise twice', async () => {
    const { app, server } = await start(recorder({ gate: true }));
    await scene.produce.add('n', '1');
    await probe.started.promise;
    const first = server.close();
    const second = server.close();
    expect(second).toBe(first);
    expect(probe.seen).toHaveLength(0);
    probe.release.resolve();
    await first;
    expect(probe.seen).toHaveLength(1);
    expect(await scene.probe.pendingCount()).toBe(0);
    await scene.close(app);
  });

  it('close() interrupts the blocking read at once', async () => {
    const { app } = await start(recorder(), { blockMs: 30_000 });
    const startedAt = Date.now();
    await scene.close(app);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('fails start-up within a few seconds with a clear error when Redis is unreachable', async () => {
    const port = await freePort();
    const startedAt = Date.now();
    const failing = scene.start(
      [recorder()],
      {
        connection: `redis://127.0.0.1:${port}`,
        group: scene.group,
        connectTimeoutMs: 4_000,
      },
      [{ provide: PROBE, useValue: probe }],
    );
    await expect(failing).rejects.toBeInstanceOf(RedisConnectionError);
    await expect(failing).rejects.toThrow(`127.0.0.1:${port}`);
    await expect(failing).rejects.toThrow('ECONNREFUSED');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('fails start-up with the option named when options are invalid', async () => {
    await expect(
      scene.start([recorder()], { connection: redisUrl(), group: '' }, [{ provide: PROBE, useValue: probe }]),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(
      scene.start([recorder()], { connection: redisUrl(), group: scene.group, concurrency: 0 }, [{ provide: PROBE, useValue: probe }]),
    ).rejects.toThrow('Invalid option "concurrency"');
  });

  it('reports status, forwards ioredis events and unwraps its clients', async () => {
    const server = new RedisStreamsServer(fastOptions({ group: scene.group, consumer: 'c1' }));
    const ready = deferred();
    server.on('ready', () => ready.resolve());
    @Module({ controllers: [recorder()], providers: [{ provide: PROBE, useValue: probe }] })
    class StatusModule {}
    const app = scene.track(await NestFactory.createMicroservice(StatusModule, { strategy: server, logger: false, abortOnError: false }));
    await app.listen();
    await ready.promise;
    expect(await firstValueFrom(server.status)).toBe(RedisStreamsStatus.CONNECTED);
    const clients = server.unwrap<RedisStreamsServerClients>();
    expect(await clients.commands.ping()).toBe('PONG');
    expect(clients.readers.map((reader) => reader.streams)).toEqual([[scene.stream]]);
    expect(clients.readers[0]!.connection.status).toBe('ready');
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
        return { id: await lastValueFrom(this.orders.emit<string>(`stream:${scene.stream}`, { sku: 'A1' })) };
      }
      @StreamEvent(scene.stream)
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
    app.connectMicroservice({ strategy: new RedisStreamsServer(fastOptions({ group: scene.group, consumer: 'h1' })) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    scene.track(app);
    const response = await fetch(`${await app.getUrl()}/order`);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^\d+-\d+$/);
    await waitFor(() => probe.seen.some((s) => s.id === id), { message: 'hybrid delivery' });
  });
});
