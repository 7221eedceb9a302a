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
  streamInSlot,
  streamOn,
} from '../../support/cluster-apps.js';
import { lowestSlotOf, moveSlot, reshardLowestSlot, startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('on a Redis Cluster while the slot of a bound stream is resharded', () => {
  const scene = useScene('reshard');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  async function startFlow(stream: string, logger: CapturingLogger) {
    const calls = new ClusterCalls();
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'c1', blockMs: 2_000, claimIdleMs: 2_000 }),
      [callsProvider(calls)],
      { logger },
    );
    const client = scene.track(new RedisStreamsClient({ connection: { cluster: cluster.addresses } }));
    const producer = new FlowingProducer((target, payload) => lastValueFrom(client.emit<string>(`stream:${target}`, payload)), [stream]);
    scene.defer(() => producer.stop());
    return { calls, producer };
  }

  /** Every n written is handled, nothing is pending, and the reader sits on the slot's new master. */
  async function expectAllHandled(stream: string, calls: ClusterCalls, producer: FlowingProducer, target: number, source: number) {
    await producer.stop();
    const written = producer.written.get(stream)!;
    await waitFor(() => (calls.succeeded.get(stream)?.size ?? 0) >= written.size, {
      timeoutMs: 20_000,
      message: `all ${written.size} entries handled`,
    });
    expect([...written].filter((n) => !calls.succeeded.get(stream)!.has(n))).toEqual([]);
    await waitFor(async () => (await pendingOn(admin, stream, scene.group)) === 0, { timeoutMs: 10_000, message: 'nothing pending' });
    const readName = connectionName(scene.group, 'c1', 'read');
    await waitFor(async () => (await clientsNamed(cluster, target, readName)).length === 1, {
      message: 'the reader to follow the slot to its new master',
    });
    expect(await clientsNamed(cluster, source, readName)).toHaveLength(0);
  }

  it('follows a slot moved by hand (IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE) through ASK and MOVED, handling every entry', async () => {
    const [source, target] = [cluster.nodes[0]!.port, cluster.nodes[1]!.port];
    const stream = await streamOn(cluster, source, 'by-hand');
    const logger = new CapturingLogger();
    const { calls, producer } = await startFlow(stream, logger);
    await waitFor(() => (calls.succeeded.get(stream)?.size ?? 0) >= 50, { message: 'entries flowing' });
    await moveSlot(cluster, keySlot(stream), target, async () => {
      // The keys have moved and the slot is not handed over yet: the source answers ASK.
      await waitFor(() => logger.all().includes('ASK'), { timeoutMs: 10_000, message: 'the reader to be answered ASK' });
      const before = producer.count;
      await waitFor(() => producer.count >= before + 20, { message: 'more entries written during the migration' });
    });
    await cluster.waitUntilStable();
    const atMove = producer.count;
    await waitFor(() => (calls.succeeded.get(stream)?.size ?? 0) > atMove, {
      timeoutMs: 15_000,
      message: 'entries written after the move handled',
    });
    await expectAllHandled(stream, calls, producer, target, source);
    expect(logger.matching('error', '')).toEqual([]);
  });

  it('follows a slot moved by redis-cli --cluster reshard while entries flow', async () => {
    const [source, target] = [cluster.nodes[2]!.port, cluster.nodes[1]!.port];
    const stream = streamInSlot(await lowestSlotOf(cluster, source), 'cli');
    const logger = new CapturingLogger();
    const { calls, producer } = await startFlow(stream, logger);
    await waitFor(() => (calls.succeeded.get(stream)?.size ?? 0) >= 50, { message: 'entries flowing' });
    expect(await reshardLowestSlot(cluster, source, target)).toBe(keySlot(stream));
    await cluster.waitUntilStable();
    const atMove = producer.count;
    await waitFor(() => (calls.succeeded.get(stream)?.size ?? 0) > atMove, {
      timeoutMs: 15_000,
      message: 'entries written after the move handled',
    });
    await expectAllHandled(stream, calls, producer, target, source);
    expect(logger.matching('error', '')).toEqual([]);
  });
});
