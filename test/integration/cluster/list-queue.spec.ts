import type { Cluster } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { InvalidOptionsError, RedisStreamsClient, type RedisListContext, type RedisStreamsServerClients } from '../../../src/index.js';
import { connectionName } from '../../../src/connection/connection-name.js';
import { readDeadLetterFields } from '../../../src/codec/dead-letter-record.js';
import { fromBytes } from '../../../src/codec/stream-codec.js';
import { deadLetterKeyOf, listKeysOf } from '../../../src/routing/key-names.js';
import { keySlot } from '../../../src/routing/hash-slot.js';
import { clientsNamed, clusterServerOptions } from '../../support/cluster-apps.js';
import { startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { listController } from '../../support/list-queue.js';
import { uniqueName } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('list queues on a Redis Cluster (three masters)', () => {
  const scene = useScene('cluster-list');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** An untagged list name whose slot is served by another master than `other`'s. */
  async function listOn(port: number): Promise<string> {
    for (;;) {
      const list = uniqueName('jobs');
      if ((await cluster.masterOf(keySlot(list))) === port) return list;
    }
  }

  it('delivers what the client pushes on the cluster, retries and dead-letters in the list slot, and reads each list on its own master', async () => {
    const [first, second] = await cluster.masters();
    const lists = [await listOn(first!), `{${await listOn(second!)}}:tagged`];
    const seen = new Map<string, unknown[]>(lists.map((list) => [list, []]));
    const handle = (list: string) => (data: unknown, ctx: RedisListContext) => {
      seen.get(list)!.push(data);
      if (data === 'poison') throw new Error('always fails');
      expect(ctx.getList()).toBe(list);
    };
    const { server } = await scene.start(
      lists.map((list) => listController(list, handle(list))),
      clusterServerOptions(cluster, { group: scene.group, consumer: 'c1', maxDeliveries: 2, retry: { baseDelayMs: 50, jitter: 0 } }),
    );
    const client = scene.track(new RedisStreamsClient({ connection: { cluster: cluster.addresses } }));
    for (const list of lists) {
      for (let n = 0; n < 10; n += 1) await lastValueFrom(client.emit(`list:${list}`, { n }));
      await lastValueFrom(client.emit(`list:${list}`, 'poison'));
    }
    for (const list of lists) {
      await waitFor(async () => (await admin.xlen(deadLetterKeyOf(list))) === 1, { message: `the poison entry of ${list} dead-lettered` });
      expect(seen.get(list)!.filter((data) => data !== 'poison')).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
      const keys = listKeysOf(list, 'c1');
      await waitFor(async () => (await admin.llen(keys.processing)) === 0, { message: `the processing list of ${list} empty` });
      expect(await admin.llen(list)).toBe(0);
      expect(await admin.zcard(keys.retry)).toBe(0);
      const [[, flat]] = (await admin.xrangeBuffer(deadLetterKeyOf(list), '-', '+')) as [[Buffer, Buffer[]]];
      const record = readDeadLetterFields(fromBytes(flat))!;
      expect(record).toMatchObject({ stream: list, id: 'list', deliveries: 2 });
      expect(record.fields[1]).toBe('\u0000nrs1:j:"poison"');
    }
    // Each list's blocking connection is on the master serving its slot.
    const { listReaders } = server.unwrap<RedisStreamsServerClients>();
    expect(listReaders.map((reader) => reader.list)).toEqual(lists);
    const name = connectionName(scene.group, 'c1', 'list');
    await waitFor(
      async () => (await clientsNamed(cluster, first!, name)).length === 1 && (await clientsNamed(cluster, second!, name)).length === 1,
      {
        message: 'one list connection on each of the two masters',
      },
    );
  });

  it('refuses an untagged list under a keyPrefix, whose bookkeeping keys would hash elsewhere', async () => {
    const list = uniqueName('jobs');
    await expect(
      scene.start(
        [listController(list, () => undefined)],
        clusterServerOptions(cluster, {
          group: scene.group,
          consumer: 'c1',
          connection: { cluster: cluster.addresses, clusterOptions: { keyPrefix: 'shop:' } },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
  });
});
