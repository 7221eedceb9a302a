import { Controller, Inject, Module, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { DEAD_LETTER_FIELDS, RedisStreamsServer, type RedisStreamsContext } from '../../src/index.js';
import { fastOptions, testClient } from '../support/apps.js';
import { adminClient, pendingCount, streamEntries, uniqueName } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { AclUsers, readmeAclRule } from './acl-users.js';

const HANDLED = 'HANDLED';

interface Order {
  readonly n: number;
  /** How many deliveries fail before one succeeds; `always` never succeeds. */
  readonly failures: number | 'always';
}

/** Keeps what the transport logs above debug level, to find permission errors in it. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(`log ${String(message)}`);
  }
  warn(message: unknown): void {
    this.lines.push(`warn ${String(message)}`);
  }
  error(message: unknown): void {
    this.lines.push(`error ${String(message)}`);
  }
}

describe('with a Redis user made from the README ACL rule, word for word', () => {
  let redis: Redis;
  let users: AclUsers;
  let stream: string;
  let group: string;
  let handled: Array<{ n: number; deliveries: number }>;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    redis = adminClient();
    users = new AclUsers(redis);
    stream = uniqueName('acl');
    group = uniqueName('g');
    handled = [];
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await users.deleteAll();
    redis.disconnect();
  });

  async function startAs(url: string, logger: RecordingLogger): Promise<INestMicroservice> {
    @Controller()
    class OrderHandler {
      constructor(@Inject(HANDLED) private readonly log: Array<{ n: number; deliveries: number }>) {}
      @EventPattern<string>(`stream:${stream}`)
      handle(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext) {
        const deliveries = ctx.getDeliveryCount();
        // Bytes that are not UTF-8 are read again as bytes (XRANGE) before the handler sees them.
        if (Buffer.isBuffer(order)) {
          this.log.push({ n: order[0] === 0xff ? -1 : 0, deliveries });
          return;
        }
        if (order.failures === 'always' || deliveries <= order.failures) throw new Error(`order ${order.n} failed`);
        this.log.push({ n: order.n, deliveries });
      }
    }
    @Module({ controllers: [OrderHandler], providers: [{ provide: HANDLED, useValue: handled }] })
    class AclModule {}
    const server = new RedisStreamsServer(
      fastOptions({ group, consumer: 'c1', connection: url, maxDeliveries: 2, retry: { baseDelayMs: 20, maxDelayMs: 200 } }),
    );
    const app = await NestFactory.createMicroservice(AclModule, { strategy: server, logger, abortOnError: false });
    await app.listen();
    closers.push(() => app.close());
    return app;
  }

  it('reads the rule out of README.md', () => {
    expect(readmeAclRule()).toMatch(/^ACL SETUSER <user> on ><password> .*~<stream> ~<stream>:dlq .*\+xreadgroup/);
  });

  it('handles and acks, retries a failure, dead-letters a poison entry, and closes, with no permission error logged', async () => {
    const user = await users.fromReadme(stream);
    const logger = new RecordingLogger();
    const app = await startAs(user.url, logger);
    const client = testClient();
    closers.push(() => client.close());

    const ok = await lastValueFrom(client.emit(`stream:${stream}`, { n: 1, failures: 0 } satisfies Order));
    const retried = await lastValueFrom(client.emit(`stream:${stream}`, { n: 2, failures: 1 } satisfies Order));
    const poison = await lastValueFrom(client.emit(`stream:${stream}`, { n: 3, failures: 'always' } satisfies Order));
    const bytes = await lastValueFrom(client.emit(`stream:${stream}`, Buffer.from([0xff, 0x00, 0x80])));
    expect([ok, retried, poison, bytes].every((id) => typeof id === 'string')).toBe(true);

    await waitFor(() => handled.length === 3, { message: 'the good entry, the bytes and the retried one handled' });
    expect(handled).toEqual(
      expect.arrayContaining([{ n: 1, deliveries: 1 }, { n: 2, deliveries: 2 }, { n: -1, deliveries: 1 }]),
    );
    await waitFor(async () => (await redis.exists(`${stream}:dlq`)) === 1, { message: 'the dead letter' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'everything acked' });
    const [dead] = await streamEntries(redis, `${stream}:dlq`);
    expect(dead?.fields).toMatchObject({ [DEAD_LETTER_FIELDS.id]: poison, [DEAD_LETTER_FIELDS.deliveries]: '2' });

    closers.shift();
    await app.close();
    expect(logger.lines.filter((line) => /NOPERM|permission|denied/i.test(line))).toEqual([]);
    // The only trouble reported is the handler failures themselves.
    expect(logger.lines.filter((line) => line.startsWith('warn') && !/failed on delivery 1 of 2/.test(line))).toEqual([]);
    expect(logger.lines.filter((line) => line.startsWith('error') && !/moved to dead-letter stream|Error: order \d failed/.test(line))).toEqual([]);
    // Closing deleted the consumer, which owned nothing (a script: EVALSHA or EVAL, XPENDING, XGROUP DELCONSUMER).
    const consumers = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[];
    expect(consumers).toEqual([]);
  });
});
