import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { ConsumerNameInUseError, InvalidOptionsError, MissingPermissionsError } from '../../../src/index.js';
import { deadLetterKeyOf } from '../../../src/routing/key-names.js';
import { AclUsers } from '../../support/acl-users.js';
import { fastOptions } from '../../support/apps.js';
import { uniqueName } from '../../support/redis.js';
import { runRoundTrip } from '../../support/round-trip.js';
import { useScene } from '../../support/scene.js';

/** How a promise rejected (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('with an ioredis keyPrefix on server and client', () => {
  const scene = useScene('kp');

  it('delivers, retries and dead-letters, and every key in Redis carries the prefix exactly once', async () => {
    // A Redis of its own, so that KEYS * sees this test's keys only.
    const redis = await scene.ownRedis();
    const admin = scene.admin(redis.url);
    const keyPrefix = `${uniqueName('shop')}:`;
    const round = await runRoundTrip(scene, {
      server: { host: '127.0.0.1', port: redis.port, keyPrefix },
      // The URL form: ioredis reads options from the query.
      client: `${redis.url}?keyPrefix=${encodeURIComponent(keyPrefix)}`,
      admin,
      keyPrefix,
    });
    expect(round.streamKey).toBe(`${keyPrefix}${scene.stream}`);
    expect(round.deadLetterKey).toBe(`${keyPrefix}{${scene.stream}}:dlq`);

    const keys = (await admin.keys('*')).sort();
    expect(keys).toEqual([round.streamKey, round.deadLetterKey].sort());
    for (const key of keys) {
      expect(key.startsWith(keyPrefix)).toBe(true);
      expect(key.startsWith(`${keyPrefix}${keyPrefix}`)).toBe(false);
    }
    // The group lives on the prefixed key (XGROUP), and the consumer in it (XREADGROUP, XCLAIM).
    const groups = (await admin.xinfo('GROUPS', round.streamKey)) as unknown[][];
    expect(groups.map((info) => info[1])).toEqual([scene.group]);
  });

  it('passes the start-up checks with an ACL user whose patterns carry the prefix, and still refuses a second live consumer of that name', async () => {
    const keyPrefix = `${uniqueName('acl')}:`;
    const users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
    // The README rule word for word, every key pattern with the prefix in front.
    const user = await users.fromReadme(scene.stream, (rule) => rule.replaceAll(' ~', ` ~${keyPrefix}`));
    const connection = `${user.url}?keyPrefix=${encodeURIComponent(keyPrefix)}`;
    const round = await runRoundTrip(scene, { server: connection, client: connection, admin: scene.redis, keyPrefix });
    expect(round.deadLetterKey).toBe(`${keyPrefix}${deadLetterKeyOf(scene.stream)}`);

    @Controller()
    class Second {
      @EventPattern<string>(`stream:${scene.stream}`)
      handle() {}
    }
    const error = await rejection(scene.start([Second], fastOptions({ group: scene.group, consumer: 'c1', connection })));
    expect(error).toBeInstanceOf(ConsumerNameInUseError);
  });

  it('names the keys a user may not touch as they are in Redis, prefix included', async () => {
    const keyPrefix = `${uniqueName('deny')}:`;
    const users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
    // The rule as written for no prefix: the prefixed keys are outside it.
    const user = await users.fromReadme(scene.stream);

    @Controller()
    class Handler {
      @EventPattern<string>(`stream:${scene.stream}`)
      handle() {}
    }
    const error = await rejection(
      scene.start([Handler], fastOptions({ group: scene.group, connection: { ...urlParts(user.url), keyPrefix } })),
    );
    expect(error).toBeInstanceOf(MissingPermissionsError);
    const denied = error as MissingPermissionsError;
    expect([...denied.keys.keys()].sort()).toEqual([`${keyPrefix}${scene.stream}`, `${keyPrefix}${deadLetterKeyOf(scene.stream)}`].sort());
    expect(denied.message).toContain(`~${keyPrefix}${scene.stream} `);
    // Nothing was created under any name.
    expect(await scene.redis.exists(scene.stream, `${keyPrefix}${scene.stream}`)).toBe(0);
  });

  it('refuses a stream named with the prefix already in it, on the server and on the client', async () => {
    const keyPrefix = 'shop:';
    @Controller()
    class Doubled {
      @EventPattern<string>(`stream:shop:${scene.stream}`)
      handle() {}
    }
    const error = await rejection(scene.start([Doubled], fastOptions({ group: scene.group, connection: { ...urlParts(), keyPrefix } })));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).option).toBe(`stream:shop:${scene.stream}`);
    expect((error as Error).message).toContain(`"shop:shop:${scene.stream}"`);

    const client = scene.newClient({ connection: { ...urlParts(), keyPrefix } });
    const emitted = await rejection(lastValueFrom(client.emit(`stream:shop:${scene.stream}`, { n: 1 })));
    expect(emitted).toBeInstanceOf(InvalidOptionsError);
    expect(await scene.redis.exists(`shop:shop:${scene.stream}`)).toBe(0);
  });
});

/** The suite's Redis (or `url`) as ioredis options, so that more options can be added. */
function urlParts(url = process.env.REDIS_URL ?? ''): { host: string; port: number; username?: string; password?: string } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }),
  };
}
