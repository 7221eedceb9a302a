import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, filter } from 'rxjs';
import { RedisStreamsStatus, StreamConfigurationError, type RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { CapturingLogger } from '../../support/logs.js';
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

  it('with several streams and missingStream wait: reads none until all exist, naming the missing ones; listen() does not wait', async () => {
    const present = scene.stream;
    const [late1, late2] = [scene.name('late1'), scene.name('late2')];
    await scene.redis.xadd(present, '*', 'n', 'before');
    const seenBy: Record<string, string[]> = { [present]: [], [late1]: [], [late2]: [] };
    @Controller()
    class Handlers {
      @EventPattern<string>(`stream:${present}`)
      a(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        seenBy[present]!.push(ctx.getMessageId());
      }
      @EventPattern<string>(`stream:${late1}`)
      b(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        seenBy[late1]!.push(ctx.getMessageId());
      }
      @EventPattern<string>(`stream:${late2}`)
      c(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        seenBy[late2]!.push(ctx.getMessageId());
      }
    }
    const logger = new CapturingLogger();
    await scene.start(
      [Handlers],
      fastOptions({ group: scene.group, consumer: 'c1', missingStream: 'wait', streamWaitIntervalMs: 50, startFrom: 'beginning' }),
      [],
      { logger },
    );
    expect(logger.matching('warn', `"${late1}", "${late2}"`)).toHaveLength(1);
    const early = await scene.redis.xadd(present, '*', 'n', 'while-waiting');
    const first = await scene.redis.xadd(late1, '*', 'n', '1');
    await waitFor(() => logger.matching('log', `still waiting for stream "${late2}"`).length > 0, {
      message: 'the first late stream noticed',
    });
    // One of three exists no longer suffices: nothing read, nothing pending yet.
    expect(seenBy[present]).toEqual([]);
    expect(seenBy[late1]).toEqual([]);
    expect(await scene.redis.xpending(present, scene.group)).toEqual([0, null, null, null]);
    const second = await scene.redis.xadd(late2, '*', 'n', '2');
    await waitFor(() => seenBy[present]!.length === 2 && seenBy[late1]!.includes(first!) && seenBy[late2]!.includes(second!), {
      message: 'every stream read once all exist',
    });
    expect(seenBy[present]).toContain(early);
    expect(logger.matching('log', 'every bound stream exists')).toHaveLength(1);
    for (const stream of [late1, late2]) {
      await waitFor(async () => (await scene.redis.xpending(stream, scene.group))[0] === 0, { message: `${stream} acked` });
    }
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
