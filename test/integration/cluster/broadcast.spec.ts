import type { Cluster } from 'ioredis';
import { connectionName } from '../../../src/connection/connection-name.js';
import { keySlot } from '../../../src/routing/hash-slot.js';
import {
  callsProvider,
  ClusterCalls,
  clientsNamed,
  clusterServerOptions,
  recordingController,
  streamInSlot,
  streamsOnMasters,
} from '../../support/cluster-apps.js';
import { startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('broadcast reads on a Redis Cluster (three masters)', () => {
  const scene = useScene('cbc');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('hands every entry of streams on every master to each of two instances, one blocking XREAD per slot, no group', async () => {
    const onMasters = await streamsOnMasters(cluster, 1, 'bc');
    const [first] = [...onMasters.keys()];
    // A second stream in the first one's slot shares its read.
    const sibling = streamInSlot(keySlot(first!), 'bc-sib');
    const streams = [...onMasters.keys(), sibling];
    const instances = await Promise.all(
      ['c1', 'c2'].map(async (consumer) => {
        const calls = new ClusterCalls();
        const { server } = await scene.start(
          [recordingController(streams, { broadcast: true })],
          clusterServerOptions(cluster, { group: scene.group, consumer }),
          [callsProvider(calls)],
        );
        return { calls, server };
      }),
    );
    const ids = new Map<string, string[]>();
    for (const stream of streams) {
      const added: string[] = [];
      for (let n = 0; n < 20; n += 1) added.push((await admin.xadd(stream, '*', 'n', String(n)))!);
      ids.set(stream, added);
    }
    await waitFor(() => instances.every(({ calls }) => calls.calls.length === streams.length * 20), {
      message: 'every entry at both instances',
    });
    for (const { calls, server } of instances) {
      for (const stream of streams) expect(calls.of(stream).map((call) => call.id)).toEqual(ids.get(stream));
      const broadcastReaders = server.unwrap().readers.filter((reader) => reader.mode === 'broadcast');
      expect(broadcastReaders).toHaveLength(3);
      expect(broadcastReaders.find((reader) => reader.streams.includes(first!))?.streams).toEqual([first, sibling]);
    }
    for (const port of new Set(onMasters.values())) {
      expect(await clientsNamed(cluster, port, connectionName(scene.group, 'c1', 'broadcast'))).toHaveLength(1);
    }
    for (const stream of streams) expect(await admin.xinfo('GROUPS', stream)).toEqual([]);
  });
});
