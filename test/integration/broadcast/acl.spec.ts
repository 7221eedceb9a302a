import { MissingPermissionsError, type RedisStreamsServerOptions } from '../../../src/index.js';
import { AclUsers, BROADCAST_RULE_MARKER, readmeAclRule } from '../../support/acl-users.js';
import { createMicroservice, fastOptions } from '../../support/apps.js';
import { BroadcastCalls, broadcastExtras } from '../../support/broadcast.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

describe('broadcast reads with a Redis user made from the README broadcast ACL rule, word for word', () => {
  const scene = useScene('bcacl');
  let users: AclUsers;

  beforeEach(() => {
    users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
  });

  function options(url: string): RedisStreamsServerOptions {
    return fastOptions({ group: scene.group, consumer: 'c1', connection: url, streamWaitIntervalMs: 100 });
  }

  it('reads the rule out of README.md', () => {
    expect(readmeAclRule(BROADCAST_RULE_MARKER)).toMatch(/^ACL SETUSER <user> on ><password> .*~<stream> .*\+xread /);
  });

  it('reads entries (bytes included), notices the stream recreated and closes, with no permission error', async () => {
    const user = await users.fromReadme(scene.stream, undefined, BROADCAST_RULE_MARKER);
    const calls = new BroadcastCalls();
    const logger = new CapturingLogger();
    const { app } = await scene.start(
      [
        streamsController(
          [scene.stream],
          (stream, data, ctx) => calls.add(stream, data, ctx),
          () => broadcastExtras(),
        ),
      ],
      options(user.url),
      [],
      { logger },
    );
    const text = await scene.produce.add('n', '1');
    const bytes = await scene.produce.add('raw', Buffer.from([0xff, 0x00]));
    await waitFor(() => calls.countOf(scene.stream) === 2, { message: 'both entries handled' });
    expect(calls.idsOf(scene.stream)).toEqual([text, bytes]);
    expect((calls.calls[1]!.data as { raw: Buffer }).raw).toEqual(Buffer.from([0xff, 0x00]));
    await scene.redis.del(scene.stream);
    await waitFor(() => logger.matching('warn', 'the key is gone').length > 0, { message: 'the deletion noticed (XINFO STREAM)' });
    await scene.close(app);
    expect(logger.all()).not.toMatch(/NOPERM|permission|denied/i);
  });

  it('fails listen() naming XREAD when the user may not run it', async () => {
    const user = await users.fromReadme(scene.stream, (rule) => rule.replace(' +xread ', ' '), BROADCAST_RULE_MARKER);
    const { app } = await createMicroservice(
      [
        streamsController(
          [scene.stream],
          () => undefined,
          () => broadcastExtras(),
        ),
      ],
      options(user.url),
    );
    scene.track(app);
    const failure = await app.listen().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MissingPermissionsError);
    expect((failure as MissingPermissionsError).commands).toEqual(['xread']);
  });
});
