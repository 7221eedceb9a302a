import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { firstValueFrom, filter } from 'rxjs';
import { RedisStreamsStatus, StreamConfigurationError, type RedisStreamsContext } from '../../src/index.js';
import { fastOptions, startMicroservice } from '../support/apps.js';
import { adminClient, redisUrl, uniqueName } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const SEEN = 'SEEN';

describe('group bootstrap', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let seen: string[];
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('boot');
    group = uniqueName('g');
    seen = [];
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    redis.disconnect();
  });

  function controller() {
    @Controller()
    class Handler {
      constructor(@Inject(SEEN) private readonly ids: string[]) {}
      @EventPattern<string>(`stream:${stream}`)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.ids.push(ctx.getMessageId());
      }
    }
    return Handler;
  }

  it('creates the stream and the group on start, and accepts an existing group', async () => {
    const { app } = await startMicroservice([controller()], fastOptions({ group, consumer: 'c1' }), [
      { provide: SEEN, useValue: seen },
    ]);
    await app.close();
    expect(await redis.type(stream)).toBe('stream');
    const again = await startMicroservice([controller()], fastOptions({ group, consumer: 'c1' }), [
      { provide: SEEN, useValue: seen },
    ]);
    closers.push(() => again.app.close());
    const id = await redis.xadd(stream, '*', 'n', '1');
    await waitFor(() => seen.includes(id!), { message: 'delivery after restart' });
  });

  it('waits for a missing stream without creating it, then reads it from its first entry', async () => {
    const { app } = await startMicroservice(
      [controller()],
      fastOptions({ group, consumer: 'c1', missingStream: 'wait', streamWaitIntervalMs: 50 }),
      [{ provide: SEEN, useValue: seen }],
    );
    closers.push(() => app.close());
    expect(await redis.exists(stream)).toBe(0);
    const first = await redis.xadd(stream, '*', 'n', '1');
    await waitFor(() => seen.includes(first!), { message: 'first entry of the new stream' });
  });

  it('fails start-up naming the key and the fix when the key is not a stream', async () => {
    await redis.set(stream, 'not a stream');
    const failing = startMicroservice([controller()], fastOptions({ group }), [{ provide: SEEN, useValue: seen }]);
    await expect(failing).rejects.toBeInstanceOf(StreamConfigurationError);
    await expect(failing).rejects.toThrow(`Stream "${stream}"`);
    await expect(failing).rejects.toThrow('WRONGTYPE');
  });

  it('fails start-up naming the missing permission when the Redis user may not use the stream', async () => {
    const user = uniqueName('limited');
    await redis.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '+@all', '-xgroup', '-xreadgroup');
    try {
      const url = redisUrl().replace('redis://', `redis://${user}:secret@`);
      const failing = startMicroservice([controller()], fastOptions({ group, connection: url }), [
        { provide: SEEN, useValue: seen },
      ]);
      await expect(failing).rejects.toBeInstanceOf(StreamConfigurationError);
      await expect(failing).rejects.toThrow('permission denied');
      await expect(failing).rejects.not.toThrow('secret');
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it('stops reading loudly when the key turns into another type while running', async () => {
    const { app, server } = await startMicroservice([controller()], fastOptions({ group, consumer: 'c1' }), [
      { provide: SEEN, useValue: seen },
    ]);
    closers.push(() => app.close());
    const disconnected = firstValueFrom(server.status.pipe(filter((s) => s === RedisStreamsStatus.DISCONNECTED)));
    await redis.del(stream);
    await redis.set(stream, 'now a string');
    await expect(disconnected).resolves.toBe(RedisStreamsStatus.DISCONNECTED);
  });
});
