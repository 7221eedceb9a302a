import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, filter } from 'rxjs';
import { RedisStreamsStatus, StreamConfigurationError, type RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { redisUrl } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const SEEN = 'SEEN';

describe('group bootstrap', () => {
  const scene = useScene('boot');
  let seen: string[];

  beforeEach(() => {
    seen = [];
  });

  function controller() {
    @Controller()
    class Handler {
      constructor(@Inject(SEEN) private readonly ids: string[]) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.ids.push(ctx.getMessageId());
      }
    }
    return Handler;
  }

  it('creates the stream and the group on start, and accepts an existing group', async () => {
    const { app } = await scene.start([controller()], fastOptions({ group: scene.group, consumer: 'c1' }), [
      { provide: SEEN, useValue: seen },
    ]);
    await scene.close(app);
    expect(await scene.redis.type(scene.stream)).toBe('stream');
    await scene.start([controller()], fastOptions({ group: scene.group, consumer: 'c1' }), [{ provide: SEEN, useValue: seen }]);
    const id = await scene.produce.add('n', '1');
    await waitFor(() => seen.includes(id), { message: 'delivery after restart' });
  });

  it('waits for a missing stream without creating it, then reads it from its first entry', async () => {
    await scene.start(
      [controller()],
      fastOptions({ group: scene.group, consumer: 'c1', missingStream: 'wait', streamWaitIntervalMs: 50 }),
      [{ provide: SEEN, useValue: seen }],
    );
    expect(await scene.redis.exists(scene.stream)).toBe(0);
    const first = await scene.produce.add('n', '1');
    await waitFor(() => seen.includes(first), { message: 'first entry of the new stream' });
  });

  it('fails start-up naming the key and the fix when the key is not a stream', async () => {
    await scene.redis.set(scene.stream, 'not a stream');
    const failing = scene.start([controller()], fastOptions({ group: scene.group }), [{ provide: SEEN, useValue: seen }]);
    await expect(failing).rejects.toBeInstanceOf(StreamConfigurationError);
    await expect(failing).rejects.toThrow(`Stream "${scene.stream}"`);
    await expect(failing).rejects.toThrow('WRONGTYPE');
  });

  it('fails start-up naming the missing permission when the Redis user may not use the stream', async () => {
    const user = scene.name('limited');
    await scene.redis.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '+@all', '-xgroup', '-xreadgroup');
    scene.defer(() => scene.redis.call('ACL', 'DELUSER', user));
    const url = redisUrl().replace('redis://', `redis://${user}:secret@`);
    const failing = scene.start([controller()], fastOptions({ group: scene.group, connection: url }), [{ provide: SEEN, useValue: seen }]);
    await expect(failing).rejects.toBeInstanceOf(StreamConfigurationError);
    await expect(failing).rejects.toThrow('permission denied');
    await expect(failing).rejects.not.toThrow('secret');
  });

  it('stops reading loudly when the key turns into another type while running', async () => {
    const { server } = await scene.start([controller()], fastOptions({ group: scene.group, consumer: 'c1' }), [
      { provide: SEEN, useValue: seen },
    ]);
    const disconnected = firstValueFrom(server.status.pipe(filter((s) => s === RedisStreamsStatus.DISCONNECTED)));
    await scene.redis.del(scene.stream);
    await scene.redis.set(scene.stream, 'now a string');
    await expect(disconnected).resolves.toBe(RedisStreamsStatus.DISCONNECTED);
  });
});
