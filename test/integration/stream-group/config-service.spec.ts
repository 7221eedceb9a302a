import { Controller, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient, RedisStreamsServer, type RedisStreamsContext } from '../../../src/index.js';
import { redisUrl } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

interface Seen {
  payload: unknown;
  id: string;
  group: string;
}

// The README's "Options from ConfigService" example, against the suite's Redis:
// REDIS_URL comes from the environment (global setup sets it), the group from
// configuration the test loads.
describe('options from ConfigService', () => {
  const scene = useScene('config-orders');

  it('builds the server from app.get(ConfigService) and the client with ClientsModule.registerAsync', async () => {
    const { stream, group } = scene;
    const maxLen = 5;
    const handled = deferred<Seen>();

    @Controller()
    class BillingController {
      @EventPattern<string>(`stream:${stream}`)
      onOrder(@Payload() order: unknown, @Ctx() ctx: RedisStreamsContext): void {
        handled.resolve({ payload: order, id: ctx.getMessageId(), group: ctx.getGroup() });
      }
    }

    @Module({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ STREAM_GROUP: group, STREAM_MAX_LEN: maxLen })] }),
        ClientsModule.registerAsync([
          {
            name: 'ORDERS',
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              customClass: RedisStreamsClient,
              options: {
                connection: config.getOrThrow<string>('REDIS_URL'),
                maxLen: config.get<number>('STREAM_MAX_LEN', 100_000),
              },
            }),
          },
        ]),
      ],
      controllers: [BillingController],
    })
    class AppModule {}

    const app = scene.track(await NestFactory.create(AppModule, { logger: false }));
    const config = app.get(ConfigService);
    expect(config.getOrThrow<string>('REDIS_URL')).toBe(redisUrl());
    app.connectMicroservice({
      strategy: new RedisStreamsServer({
        connection: config.getOrThrow<string>('REDIS_URL'),
        group: config.get<string>('STREAM_GROUP', 'billing'),
        blockMs: 200,
      }),
    });
    await app.startAllMicroservices();
    await app.init();

    const orders = app.get<ClientProxy>('ORDERS');
    expect(orders).toBeInstanceOf(RedisStreamsClient);
    const id = await lastValueFrom(orders.emit<string>(`stream:${stream}`, { sku: 'A1', qty: 2 }));

    await expect(handled.promise).resolves.toEqual({ payload: { sku: 'A1', qty: 2 }, id, group });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the entry to be acked' });

    // The client's maxLen came from configuration: XADD trims with MAXLEN ~ 5.
    const trimmed = scene.name('config-trim');
    for (let i = 0; i < 300; i += 1) await lastValueFrom(orders.emit(`stream:${trimmed}`, { i }));
    expect(await scene.redis.xlen(trimmed)).toBeLessThan(300);
  });
});
