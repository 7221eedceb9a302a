import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { AclUsers } from '../../support/acl-users.js';
import { fastOptions } from '../../support/apps.js';
import { readmeBlock } from '../../support/readme.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';
import { REQUEST_FIELD } from '../../../src/constants.js';

/** The README's client rule for send(), and what it says the server adds. */
function readmeRules(): { client: string; serverAddition: string } {
  const block = readmeBlock('redis-acl-request-reply-rules');
  const lines = block.split('\n');
  const client = lines.find((line) => line.startsWith('client: '))?.slice('client: '.length);
  const server = lines.find((line) => line.startsWith('server: '));
  const addition = /plus (\S+)$/.exec(server ?? '')?.[1];
  if (client === undefined || addition === undefined) throw new Error(`unexpected request-reply ACL block: ${block}`);
  return { client, serverAddition: addition };
}

describe('request-reply with Redis users made from the README ACL rules, word for word', () => {
  const scene = useScene('rpc-acl');

  it('answers a request, an error and a binary reply, with no permission error logged', async () => {
    const users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
    const { client: clientRule, serverAddition } = readmeRules();
    const server = await users.fromReadme(scene.stream, (rule) => `${rule} ${serverAddition}`);
    const clientUser = await users.fromReadme(scene.stream, () => clientRule);
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Answering {
      @MessagePattern(pattern)
      answer(@Payload() data: unknown) {
        if (data === 'fail') throw new Error('no');
        return Buffer.isBuffer(data) ? Buffer.from(data).reverse() : { data };
      }
    }
    const logger = new CapturingLogger();
    await scene.start([Answering], fastOptions({ group: scene.group, connection: server.url }), [], { logger });
    const client = scene.newClient({ connection: clientUser.url });
    await expect(lastValueFrom(client.send(pattern, 1))).resolves.toEqual({ data: 1 });
    await expect(lastValueFrom(client.send(pattern, 'fail'))).rejects.toMatchObject({ status: 'error' });
    const bytes = await lastValueFrom(client.send<Buffer>(pattern, Buffer.from([0xff, 0x00, 0x80])));
    expect(Buffer.from(bytes).equals(Buffer.from([0x80, 0x00, 0xff]))).toBe(true);
    // 1,000 replies read: the client trims its reply stream (XTRIM), which the rule allows.
    await Promise.all(Array.from({ length: 1_000 }, (_, n) => lastValueFrom(client.send(pattern, n))));
    const [request] = await scene.redis.xrange(scene.stream, '-', '+', 'COUNT', 1);
    const replyStream = request![1][request![1].indexOf(REQUEST_FIELD) + 1]!.split(' ')[2]!;
    await waitFor(async () => (await scene.redis.xlen(replyStream)) < 1_000, { message: 'reply stream trimmed under the README rule' });
    await scene.close(client);
    expect(logger.all()).not.toMatch(/NOPERM|permission|denied/i);
  });
});
