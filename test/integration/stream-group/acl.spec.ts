import { Controller, Inject, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, type RedisStreamsContext } from '../../../src/index.js';
import { AclUsers, readmeAclRule } from '../../support/acl-users.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

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
  const scene = useScene('acl');
  let users: AclUsers;
  let handled: Array<{ n: number; deliveries: number }>;

  beforeEach(() => {
    users = new AclUsers(scene.redis);
    scene.defer(() => users.deleteAll());
    handled = [];
  });

  async function startAs(url: string, logger: RecordingLogger): Promise<INestMicroservice> {
    @Controller()
    class OrderHandler {
      constructor(@Inject(HANDLED) private readonly log: Array<{ n: number; deliveries: number }>) {}
      @EventPattern<string>(`stream:${scene.stream}`)
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
    const { app } = await scene.start(
      [OrderHandler],
      fastOptions({ group: scene.group, consumer: 'c1', connection: url, maxDeliveries: 2, retry: { baseDelayMs: 20, maxDelayMs: 200 } }),
      [{ provide: HANDLED, useValue: handled }],
      { logger },
    );
    return app;
  }

  it('reads the rule out of README.md', () => {
    expect(readmeAclRule()).toMatch(/^ACL SETUSER <user> on ><password> .*~<stream> ~\{<stream>\}:dlq .*\+xreadgroup/);
  });

  it('handles and acks, retries a failure, dead-letters a poison entry, and closes, with no permission error logged', async () => {
    const { probe, produce } = scene;
    const user = await users.fromReadme(scene.stream);
    const logger = new RecordingLogger();
    const app = await startAs(user.url, logger);

    const ok = await produce.emit({ n: 1, failures: 0 } satisfies Order);
    const retried = await produce.emit({ n: 2, failures: 1 } satisfies Order);
    const poison = await produce.emit({ n: 3, failures: 'always' } satisfies Order);
    const bytes = await produce.emit(Buffer.from([0xff, 0x00, 0x80]));
    expect([ok, retried, poison, bytes].every((id) => typeof id === 'string')).toBe(true);

    await waitFor(() => handled.length === 3, { message: 'the good entry, the bytes and the retried one handled' });
    expect(handled).toEqual(
      expect.arrayContaining([
        { n: 1, deliveries: 1 },
        { n: 2, deliveries: 2 },
        { n: -1, deliveries: 1 },
      ]),
    );
    await waitFor(async () => (await scene.redis.exists(probe.deadLetterStream)) === 1, { message: 'the dead letter' });
    await waitFor(async () => (await probe.pendingCount()) === 0, { message: 'everything acked' });
    const [dead] = await probe.deadLetters();
    expect(dead?.fields).toMatchObject({ [DEAD_LETTER_FIELDS.id]: poison, [DEAD_LETTER_FIELDS.deliveries]: '2' });

    await scene.close(app);
    expect(logger.lines.filter((line) => /NOPERM|permission|denied/i.test(line))).toEqual([]);
    // The only trouble reported is the handler failures themselves.
    expect(logger.lines.filter((line) => line.startsWith('warn') && !/failed on delivery 1 of 2/.test(line))).toEqual([]);
    expect(
      logger.lines.filter((line) => line.startsWith('error') && !/moved to dead-letter stream|Error: order \d failed/.test(line)),
    ).toEqual([]);
    // Closing deleted the consumer, which owned nothing (a script: EVALSHA or EVAL, XPENDING, XGROUP DELCONSUMER).
    expect(await probe.consumers()).toEqual([]);
  });
});
