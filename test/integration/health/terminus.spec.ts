import { Controller, Get, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { RedisStreamsHealthIndicator } from '../../../src/health/terminus.js';
import type { RedisStreamsServer } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const GATE = 'GATE';

/** Holds handlers until released, so that entries stay pending and the lag grows. */
class Gate {
  private opened!: () => void;
  readonly open = new Promise<void>((resolve) => (this.opened = resolve));
  release(): void {
    this.opened();
  }
}

describe('the Terminus health indicator', () => {
  const scene = useScene('health');
  const indicator = new RedisStreamsHealthIndicator(new HealthIndicatorService());

  function controller() {
    @Controller()
    class Handler {
      constructor(@Inject(GATE) private readonly gate: Gate) {}
      @EventPattern<string>(`stream:${scene.stream}`, { concurrency: 1, batchSize: 1 })
      async handle(@Payload() _data: unknown) {
        await this.gate.open;
      }
    }
    return Handler;
  }

  async function start(gate = new Gate()): Promise<RedisStreamsServer> {
    const { server } = await scene.start([controller()], fastOptions({ group: scene.group, consumer: 'c1' }), [
      { provide: GATE, useValue: gate },
    ]);
    return server;
  }

  it('is up for a connected server, naming its connection', async () => {
    const gate = new Gate();
    gate.release();
    const server = await start(gate);
    expect(await indicator.isHealthy('streams', server)).toEqual({ streams: { status: 'up', connection: 'connected' } });
  });

  it('is degraded past a lag, oldest-pending or dead-letter threshold, naming the stream and the figure', async () => {
    const gate = new Gate();
    const server = await start(gate);
    await scene.produce.addMany(5);
    await waitFor(async () => ((await scene.redis.xpending(scene.stream, scene.group)) as [number])[0] === 1, {
      message: 'one entry pending',
    });
    const result = await indicator.isHealthy('streams', server, { maxLag: 2, maxOldestPendingMs: 0 });
    expect(result['streams']).toMatchObject({ status: 'degraded' });
    const reasons = (result['streams'] as unknown as { reasons: string[] }).reasons;
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^"${scene.stream}": oldest pending \\d+ ms > 0 ms$`))]),
    );
    // Redis 6.2 counts no lag; 7.0 and later say 4 entries wait.
    if (reasons.some((r) => r.includes('lag'))) expect(reasons).toContain(`"${scene.stream}": lag 4 entries > 2 entries`);
    expect(await indicator.isHealthy('relaxed', server, { maxLag: 100, maxOldestPendingMs: 60_000 })).toMatchObject({
      relaxed: { status: 'up' },
    });

    // Dead letters: growth since the previous check of the same key.
    await indicator.isHealthy('dlq', server, { maxDeadLetterGrowth: 1 });
    for (let i = 0; i < 2; i += 1) await scene.redis.xadd(`{${scene.stream}}:dlq`, '*', 'n', String(i));
    const grown = await indicator.isHealthy('dlq', server, { maxDeadLetterGrowth: 1 });
    expect(grown['dlq']).toMatchObject({ status: 'degraded', streams: { [scene.stream]: { deadLetters: 2, deadLetterGrowth: 2 } } });
    expect((await indicator.isHealthy('dlq', server, { maxDeadLetterGrowth: 1 }))['dlq']).toMatchObject({ status: 'up' });
    gate.release();
  });

  it('is down once Redis has been gone past the grace period, and while shutting down', async () => {
    const redis = await scene.ownRedis();
    const gate = new Gate();
    gate.release();
    const { server } = await scene.start(
      [controller()],
      fastOptions({ group: scene.group, consumer: 'c1', connection: redis.url, shutdownTimeoutMs: 200 }),
      [{ provide: GATE, useValue: gate }],
    );
    expect((await indicator.isHealthy('streams', server, { disconnectedGraceMs: 100 }))['streams']).toMatchObject({ status: 'up' });
    await redis.stop();
    await waitFor(async () => (await indicator.isHealthy('streams', server, { disconnectedGraceMs: 100 }))['streams']?.status === 'down', {
      message: 'down after the grace period',
    });
    const down = (await indicator.isHealthy('streams', server, { disconnectedGraceMs: 100 }))['streams'] as unknown as {
      reasons: string[];
    };
    expect(down.reasons[0]).toMatch(/^(reconnecting|disconnected) for \d+ ms \(grace 100 ms\)$/);
    const closing = server.close();
    expect((await indicator.isHealthy('streams', server))['streams']).toMatchObject({
      status: 'down',
      reasons: expect.arrayContaining(['the server is shutting down']) as unknown,
    });
    await closing;
  });

  it('is down when a reader stopped for good, naming the stream', async () => {
    const gate = new Gate();
    gate.release();
    const server = await start(gate);
    await scene.redis.del(scene.stream);
    await scene.redis.set(scene.stream, 'not a stream any more');
    await waitFor(async () => (await indicator.isHealthy('streams', server))['streams']?.status === 'down', { message: 'down' });
    const down = (await indicator.isHealthy('streams', server))['streams'] as unknown as { reasons: string[] };
    expect(down.reasons[0]).toContain(`stopped reading "${scene.stream}"`);
  });

  it('plugs into a Terminus health check through Nest DI, for a client too', async () => {
    const client = scene.newClient();
    await client.connect();
    @Controller()
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly streams: RedisStreamsHealthIndicator,
      ) {}
      @Get('health')
      check() {
        return this.health.check([() => this.streams.isHealthy('producer', client)]);
      }
    }
    @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [RedisStreamsHealthIndicator] })
    class HealthModule {}
    const app = await NestFactory.createApplicationContext(HealthModule, { logger: false });
    scene.defer(() => app.close());
    const result = await app.get(HealthController).check();
    expect(result).toMatchObject({ status: 'ok', info: { producer: { status: 'up', connection: 'connected' } } });
  });
});
