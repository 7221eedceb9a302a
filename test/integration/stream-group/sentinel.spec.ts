import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { DATA_FIELD } from '../../../src/constants.js';
import { fastOptions } from '../../support/apps.js';
import { emit } from '../../support/produce.js';
import { useScene } from '../../support/scene.js';
import { startSentinelSetup, type SentinelSetup } from '../../support/sentinel.js';
import { waitFor } from '../../support/wait.js';

const HANDLED = 'HANDLED';

/** The names of the connections a Redis has (CLIENT LIST), ours among them: `nrs:<group>:<consumer>:<role>`, `nrs:producer`. */
async function connectionNames(redis: Redis): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  return [...list.matchAll(/ name=(\S*)/g)].map((match) => match[1]!).filter((name) => name.startsWith('nrs:'));
}

/** Connections to a sentinel that subscribe (ioredis' failover detectors). */
async function subscribers(sentinel: Redis): Promise<number> {
  const list = (await sentinel.client('LIST')) as string;
  return list.split('\n').filter((line) => /cmd=(p?subscribe)/.test(line)).length;
}

describe('through Redis Sentinel (a master, a replica, three sentinels, timers shortened)', () => {
  const scene = useScene('sentinel');
  let setup: SentinelSetup;

  beforeAll(async () => {
    setup = await startSentinelSetup();
  }, 30_000);

  afterAll(async () => {
    await setup?.stop();
  });

  it('keeps consuming across a SENTINEL FAILOVER in the middle of production: everything on the new master is handled, nothing stays pending there', async () => {
    const handled = new Map<number, number>();
    @Controller()
    class Handler {
      constructor(@Inject(HANDLED) private readonly seen: Map<number, number>) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      handle(@Payload() order: { n: number }) {
        this.seen.set(order.n, (this.seen.get(order.n) ?? 0) + 1);
      }
    }
    const { app } = await scene.start(
      [Handler],
      // An ack lost in the switch leaves its entry pending on the new master: reclaimed after claimIdleMs.
      fastOptions({ group: scene.group, consumer: 'c1', connection: setup.connection(), claimIdleMs: 1_000 }),
      [{ provide: HANDLED, useValue: handled }],
    );
    const client = scene.newClient({ connection: setup.connection() });
    expect(await setup.currentMasterPort()).toBe(setup.masterPort);

    // One emit after another, each tried again until our client resolves it.
    const produced: number[] = [];
    let isProducing = true;
    const production = (async () => {
      for (let n = 0; isProducing; n += 1) {
        for (;;) {
          try {
            await emit(client, scene.stream, { n });
            produced.push(n);
            break;
          } catch {
            // EmitTimeoutError and the like while the client switches: write it again.
          }
        }
      }
    })();
    try {
      await waitFor(() => handled.size >= 100, { message: '100 entries handled before the failover' });
      const newMaster = await setup.failover();
      expect(newMaster).toBe(setup.replicaPort);
      // Server and client follow the sentinels' announcement (+switch-master) to the new master.
      const [former, current] = [scene.admin(`redis://127.0.0.1:${setup.masterPort}`), scene.admin(`redis://127.0.0.1:${newMaster}`)];
      const ours = [`nrs:${scene.group}:c1:commands`, `nrs:${scene.group}:c1:read`, 'nrs:producer'];
      await waitFor(
        async () => {
          const [left, arrived] = [await connectionNames(former), await connectionNames(current)];
          return left.length === 0 && ours.every((name) => arrived.includes(name));
        },
        { message: 'every connection of the server and the client on the new master, none left on the former one' },
      );
      const switchedAt = produced.length;
      await waitFor(() => produced.length >= switchedAt + 100, { message: '100 entries produced on the new master' });
    } finally {
      isProducing = false;
      await production;
    }

    const master = scene.admin(`redis://127.0.0.1:${setup.replicaPort}`);
    const stored = (await master.xrange(scene.stream, '-', '+')).map(([, flat]) => {
      const payload = JSON.parse(flat[flat.indexOf(DATA_FIELD) + 1]!) as { n: number };
      return payload.n;
    });
    // Everything the new master holds is handled at least once, including what was written after the switch.
    await waitFor(() => stored.every((n) => handled.has(n)), { message: 'every entry of the new master handled' });
    // Redis replicates asynchronously: what the old master took after the promotion and before the
    // switch is not on the new master. Nothing written after the switch is missing.
    const missing = new Set(produced.filter((n) => !stored.includes(n)));
    expect(produced.slice(-100).filter((n) => missing.has(n))).toEqual([]);
    await waitFor(async () => Number(((await master.xpending(scene.stream, scene.group)) as [number])[0]) === 0, {
      message: 'nothing pending on the new master',
    });

    await scene.close(app);
    await scene.close(client);
    // close() also ends ioredis' failover-detector subscriptions to the sentinels.
    const sentinels = setup.sentinels.map(({ port }) => scene.admin(`redis://127.0.0.1:${port}`));
    await waitFor(async () => (await Promise.all(sentinels.map(subscribers))).every((count) => count === 0), {
      message: 'no subscriptions left on the sentinels',
    });
  });
});
