import { inspect } from 'node:util';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import {
  ConsumerNameInUseError,
  MissingPermissionsError,
  RedisConnectionError,
  StreamConfigurationError,
  type RedisStreamsContext,
} from '../../../src/index.js';
import { AclUsers } from '../../support/acl-users.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const SEEN = 'SEEN';

/** Everything reachable from an error, as `console.error` and a JSON log would show it. */
function everythingIn(error: unknown): string {
  const parts = [inspect(error, { depth: null, showHidden: true })];
  for (let link: unknown = error; link instanceof Error; link = link.cause) {
    parts.push(
      JSON.stringify(link),
      JSON.stringify(Object.getOwnPropertyNames(link).map((key) => [key, String((link as unknown as Record<string, unknown>)[key])])),
    );
  }
  return parts.join('\n');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected listen() to fail');
}

describe('start-up checks', () => {
  const scene = useScene('start');
  let users: AclUsers;
  let seen: string[];

  beforeEach(() => {
    users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
    seen = [];
  });

  function controller(key = scene.stream) {
    @Controller()
    class Handler {
      constructor(@Inject(SEEN) private readonly ids: string[]) {}
      @EventPattern<string>(`stream:${key}`)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.ids.push(ctx.getMessageId());
      }
    }
    return Handler;
  }

  function start(options: Parameters<typeof fastOptions>[0], key = scene.stream) {
    return scene.start([controller(key)], fastOptions(options), [{ provide: SEEN, useValue: seen }]);
  }

  describe('consumer names', () => {
    it('fails listen() of a second live server with the same group and consumer, naming both; the first carries on', async () => {
      await start({ group: scene.group, consumer: 'c1' });
      const error = await rejection(start({ group: scene.group, consumer: 'c1' }));
      expect(error).toBeInstanceOf(ConsumerNameInUseError);
      expect(error).toMatchObject({ group: scene.group, consumer: 'c1' });
      const message = (error as Error).message;
      expect(message).toContain(`Consumer "c1" of group "${scene.group}"`);
      expect(message).toContain('its own "consumer" name');

      const id = await scene.produce.emit({ n: 1 });
      await waitFor(() => seen.includes(String(id)), { message: 'the first server handling an entry' });
      await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the entry acked' });
      expect(await scene.probe.clientsNamed(`nrs:${scene.group}:c1:commands`)).toHaveLength(1);
    });

    it('lets another consumer name, and the same name in another group, start alongside', async () => {
      await start({ group: scene.group, consumer: 'c1' });
      await expect(start({ group: scene.group, consumer: 'c2' })).resolves.toBeDefined();
      await expect(start({ group: `${scene.group}-other`, consumer: 'c1' })).resolves.toBeDefined();
    });

    it('names the connections of a consumer with spaces and colons unambiguously, and checks that name too', async () => {
      await start({ group: scene.group, consumer: 'host a:1' });
      expect(await scene.probe.clientsNamed(`nrs:${scene.group}:host%20a%3A1:commands`)).toHaveLength(1);
      expect(await scene.probe.clientsNamed(`nrs:${scene.group}:host%20a%3A1:read`)).toHaveLength(1);
      await expect(start({ group: scene.group, consumer: 'host a:1' })).rejects.toBeInstanceOf(ConsumerNameInUseError);
      // Group "g:host a" with consumer "1" is someone else, though the raw parts join the same way.
      await expect(start({ group: `${scene.group}:host a`, consumer: '1' })).resolves.toBeDefined();
    });
  });

  describe('credentials stay out of errors', () => {
    it('a wrong password fails listen() naming the address and the fix, without the password anywhere', async () => {
      const user = await users.create(['on', '~*', '+@all']);
      const wrong = `wrong-${user.password}`;
      const error = await rejection(
        start({ group: scene.group, connection: user.url.replace(user.password, wrong), connectTimeoutMs: 2_000 }),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      const message = (error as Error).message;
      expect(message).toContain(new URL(user.url).host);
      expect(message).toContain('WRONGPASS');
      expect(message).toContain('Check the username and password');
      const everything = everythingIn(error);
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(user.password);
    });

    it('the right password with a command denied fails listen() without the password anywhere', async () => {
      const user = await users.create(['on', '~*', '+@all', '-xreadgroup']);
      const error = await rejection(start({ group: scene.group, connection: user.url }));
      expect(error).toBeInstanceOf(StreamConfigurationError);
      expect((error as Error).message).toContain('XREADGROUP');
      expect(everythingIn(error)).not.toContain(user.password);
    });
  });

  describe('permissions', () => {
    it('a user without XREADGROUP and XACK fails listen() naming both, before creating anything', async () => {
      const user = await users.create(['on', '~*', '+@all', '-xreadgroup', '-xack']);
      const error = await rejection(start({ group: scene.group, connection: user.url }));
      expect(error).toBeInstanceOf(MissingPermissionsError);
      expect(error).toBeInstanceOf(StreamConfigurationError);
      expect((error as MissingPermissionsError).commands).toEqual(expect.arrayContaining(['xreadgroup', 'xack']));
      expect((error as MissingPermissionsError).commands).toHaveLength(2);
      const message = (error as Error).message;
      expect(message).toContain(`Stream "${scene.stream}" (group "${scene.group}")`);
      expect(message).toContain('XREADGROUP');
      expect(message).toContain('XACK');
      expect(message).toContain(`the Redis user "${user.name}"`);
      expect(await scene.redis.exists(scene.stream)).toBe(0);
    });

    it('the README rule without the dead-letter pattern fails listen() naming the dead-letter key and its commands', async () => {
      const user = await users.fromReadme(scene.stream, (rule) => rule.replace(' ~{<stream>}:dlq', ''));
      const error = await rejection(start({ group: scene.group, connection: user.url }));
      expect(error).toBeInstanceOf(MissingPermissionsError);
      const denied = error as MissingPermissionsError;
      expect(denied.commands).toEqual([]);
      expect([...denied.keys.keys()]).toEqual([scene.probe.deadLetterStream]);
      expect(denied.keys.get(scene.probe.deadLetterStream)).toEqual(expect.arrayContaining(['xadd', 'evalsha', 'eval']));
      expect(denied.message).toContain(`may not access key "{${scene.stream}}:dlq"`);
      expect(denied.message).toContain('XADD');
    });

    it('the README rule without CLIENT SETNAME and CLIENT LIST fails listen() naming them', async () => {
      const user = await users.fromReadme(scene.stream, (rule) => rule.replace(' +client|setname', '').replace(' +client|list', ''));
      const error = await rejection(start({ group: scene.group, connection: user.url }));
      expect(error).toBeInstanceOf(MissingPermissionsError);
      expect((error as MissingPermissionsError).commands).toEqual(['client|setname', 'client|list']);
    });
  });

  describe('Redis out of client slots', () => {
    it('fails listen() saying that the client limit (maxclients) is reached and how to fix it', async () => {
      const { port } = await scene.ownRedis({ maxClients: 1 });
      // Holds the small redis-server's one client slot.
      const hog = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, disconnectTimeout: 100 });
      hog.on('error', () => undefined);
      scene.defer(() => hog.disconnect());
      await waitFor(() => hog.status === 'ready', { message: 'the small redis-server to take its one client' });
      const error = await rejection(start({ group: scene.group, connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 3_000 }));
      expect(error).toBeInstanceOf(RedisConnectionError);
      const message = (error as Error).message;
      expect(message).toContain(`127.0.0.1:${port}`);
      expect(message).toContain('client limit (maxclients) is reached');
      expect(message).toContain('CONFIG SET maxclients');
    });
  });
});
