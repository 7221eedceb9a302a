import { randomBytes } from 'node:crypto';
import { MissingPermissionsError, type RedisListContext } from '../../../src/index.js';
import { readmeAclRule } from '../../support/acl-users.js';
import { fastOptions } from '../../support/apps.js';
import { listController, pushAll } from '../../support/list-queue.js';
import { redisUrl, uniqueName } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const LIST_RULE_MARKER = '<!-- redis-list-acl-rule -->';

describe('list queues with a Redis user made from the README list ACL rule, word for word', () => {
  const scene = useScene('acl-jobs');
  /** A user from the README's list rule (optionally edited), logged in through the returned URL. */
  async function userFromRule(edit: (rule: string) => string = (rule) => rule): Promise<string> {
    const name = uniqueName('acl-user');
    const password = `secret-${randomBytes(8).toString('hex')}`;
    const rule = edit(readmeAclRule(LIST_RULE_MARKER))
      .replaceAll('<user>', name)
      .replaceAll('<password>', password)
      .replaceAll('<list>', scene.stream);
    const [acl, setuser, ...args] = rule.split(/\s+/);
    await scene.redis.call(acl!, setuser!, ...args);
    scene.defer(() => scene.redis.call('ACL', 'DELUSER', name));
    return redisUrl().replace('redis://', `redis://${name}:${password}@`);
  }

  function start(url: string, handle: (data: unknown, ctx: RedisListContext) => void) {
    return scene.start(
      [listController(scene.stream, handle)],
      fastOptions({ group: scene.group, consumer: 'c1', connection: url, maxDeliveries: 2, retry: { baseDelayMs: 20, maxDelayMs: 200 } }),
    );
  }

  it('handles, retries and dead-letters entries, with every permission checked at start', async () => {
    const url = await userFromRule();
    const handled: string[] = [];
    await start(url, (data, ctx) => {
      if (data === 'fails-once' && ctx.getDeliveryCount() === 1) throw new Error('once');
      if (data === 'always') throw new Error('always');
      handled.push(String(data));
    });
    await pushAll(scene.redis, scene.stream, ['ok', 'fails-once', 'always']);
    await waitFor(async () => handled.length === 2 && (await scene.redis.xlen(`{${scene.stream}}:dlq`)) === 1, {
      message: 'two handled and one dead-lettered',
    });
    expect(handled.sort()).toEqual(['fails-once', 'ok']);
  });

  it('fails listen() with every missing command listed', async () => {
    const url = await userFromRule((rule) => rule.replace(' +lmove', '').replace(' +zadd', ''));
    const failure = start(url, () => undefined);
    await expect(failure).rejects.toBeInstanceOf(MissingPermissionsError);
    const error = (await failure.catch((e: unknown) => e)) as MissingPermissionsError;
    expect(error.commands).toEqual(expect.arrayContaining(['lmove', 'zadd']));
    expect(error.message).toContain(`Stream "${scene.stream}"`);
  });

  it('names a key outside the rule', async () => {
    const url = await userFromRule((rule) => rule.replace(' ~{<list>}:*', ' ~{<list>}:processing:*'));
    const failure = start(url, () => undefined);
    const error = (await failure.catch((e: unknown) => e)) as MissingPermissionsError;
    expect(error).toBeInstanceOf(MissingPermissionsError);
    expect([...error.keys.keys()]).toEqual(expect.arrayContaining([`{${scene.stream}}:retry`, `{${scene.stream}}:consumers`]));
  });
});
