import type { Cluster } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient } from '../../../src/index.js';
import { connectionName } from '../../../src/connection/connection-name.js';
import { keySlot } from '../../../src/routing/hash-slot.js';
import {
  callsProvider,
  ClusterCalls,
  clientsNamed,
  clusterServerOptions,
  FlowingProducer,
  pendingOn,
  recordingController,
  streamsOnMasters,
} from '../../support/cluster-apps.js';
import { startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('on a Redis Cluster when a master dies and its replica takes over', () => {
  const scene = useScene('failover');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3, replicas: 1 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Waits until the replicas of the master on `port` have everything it has written. */
  async function waitForReplicas(port: number): Promise<void> {
    await waitFor(
      async () => {
        const info = await cluster.node(port).info('replication');
        const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((match) => match[1]);
        return replicas.length > 0 && replicas.every((replica) => replica === offset);
      },
      { message: `the replicas of ${port} to catch up` },
    );
  }

  it('keeps consuming every stream through a SIGKILLed master, reading the replica that took over, with every entry handled and none pending', async () => {
    const streams = await streamsOnMasters(cluster, 1, 'fo');
    const [victimStream, victim] = [...streams.entries()][0]!;
    const logger = new CapturingLogger();
    const calls = new ClusterCalls();
    await scene.start(
      [recordingController([...streams.keys()])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'c1', blockMs: 1_000, claimIdleMs: 2_000 }),
      [callsProvider(calls)],
      { logger },
    );
    const client = scene.track(new RedisStreamsClient({ connection: { cluster: cluster.addresses } }));
    const producer = new FlowingProducer(
      (stream, payload) => lastValueFrom(client.emit<string>(`stream:${stream}`, payload)),
      [...streams.keys()],
    );
    scene.defer(() => producer.stop());
    const handled = (stream: string): number => calls.succeeded.get(stream)?.size ?? 0;
    await waitFor(() => [...streams.keys()].every((stream) => handled(stream) >= 30), { message: 'entries flowing on every stream' });

    // Replication is asynchronous: a write acknowledged just before the kill
    // can be lost with the master, which no client can prevent. Holding the
    // victim's writes until its replica has all of them keeps every
    // acknowledged entry; the writes held are failed by the kill and sent again.
    await cluster.node(victim).call('CLIENT', 'PAUSE', '30000', 'WRITE');
    await waitForReplicas(victim);
    await cluster.kill(victim);
    const slot = keySlot(victimStream);
    await waitFor(
      async () => {
        try {
          return (await cluster.masterOf(slot)) !== victim;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, message: 'a replica to take over the dead master’s slots' },
    );
    await cluster.waitUntilStable();
    const promoted = await cluster.masterOf(slot);
    const atFailover = handled(victimStream);
    await waitFor(() => handled(victimStream) >= atFailover + 30, {
      timeoutMs: 20_000,
      message: 'entries of the dead master’s stream handled again, on the new master',
    });

    await producer.stop();
    for (const [stream, written] of producer.written) {
      await waitFor(() => [...written].every((n) => calls.succeeded.get(stream)?.has(n) === true), {
        timeoutMs: 20_000,
        message: `every entry written to ${stream} handled`,
      });
      await waitFor(async () => (await pendingOn(admin, stream, scene.group)) === 0, {
        timeoutMs: 20_000,
        message: `nothing pending on ${stream}`,
      });
    }
    const readName = connectionName(scene.group, 'c1', 'read');
    const readsOnPromoted = [...streams.entries()].filter(([, port]) => port === victim).length;
    await waitFor(async () => (await clientsNamed(cluster, promoted, readName)).length === readsOnPromoted, {
      message: 'the reader of the dead master’s stream on the promoted replica',
    });
    expect(logger.matching('error', '')).toEqual([]);
  });
});
