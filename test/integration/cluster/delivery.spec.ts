import { Cluster } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import {
  ConsumerNameInUseError,
  DEAD_LETTER_FIELDS,
  InvalidOptionsError,
  RedisConnectionError,
  RedisStreamsClient,
  type RedisStreamsServerClients,
} from '../../../src/index.js';
import { connectionName } from '../../../src/connection/connection-name.js';
import { keySlot } from '../../../src/routing/hash-slot.js';
import {
  callsProvider,
  ClusterCalls,
  clientsNamed,
  clusterServerOptions,
  pendingOn,
  recordingController,
  streamOn,
  streamsOnMasters,
} from '../../support/cluster-apps.js';
import { startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { CLUSTER_RULE_MARKER, readmeAclRule } from '../../support/acl-users.js';
import { consumerConfig, spawnConsumer } from '../../support/children.js';
import { freePort } from '../../support/local-redis.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('on a Redis Cluster (three masters)', () => {
  const scene = useScene('cluster');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  function clusterClient(): RedisStreamsClient {
    return scene.track(new RedisStreamsClient({ connection: { cluster: cluster.addresses } }));
  }

  function emit(client: RedisStreamsClient, stream: string, payload: unknown): Promise<string> {
    return lastValueFrom(client.emit<string>(`stream:${stream}`, payload));
  }

  it('delivers the entries of six streams on three masters, emitted through the client on the cluster, with each stream read on its own master', async () => {
    const streams = await streamsOnMasters(cluster, 2, 'six');
    expect(new Set(streams.values()).size).toBe(3);
    expect(new Set([...streams.keys()].map((stream) => keySlot(stream))).size).toBe(6);
    const calls = new ClusterCalls();
    const logger = new CapturingLogger();
    const { server } = await scene.start(
      [recordingController([...streams.keys()])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'c1' }),
      [callsProvider(calls)],
      { logger },
    );
    const client = clusterClient();
    const ids = new Map<string, string[]>();
    await Promise.all(
      [...streams.keys()].map(async (stream) => {
        for (let n = 0; n < 5; n += 1) ids.set(stream, [...(ids.get(stream) ?? []), await emit(client, stream, { n })]);
      }),
    );
    await waitFor(() => calls.calls.length === 30, { message: 'thirty entries handled' });
    for (const stream of streams.keys()) {
      expect(calls.of(stream).map((call) => call.id)).toEqual(ids.get(stream));
      await waitFor(async () => (await pendingOn(admin, stream, scene.group)) === 0, { message: `nothing pending on ${stream}` });
    }
    // Each stream's blocking connection is on the master serving its slot.
    const readName = connectionName(scene.group, 'c1', 'read');
    for (const port of new Set(streams.values())) {
      const here = [...streams.values()].filter((master) => master === port).length;
      expect(await clientsNamed(cluster, port, readName)).toHaveLength(here);
    }
    const clients = server.unwrap<RedisStreamsServerClients>();
    expect(clients.commands).toBeInstanceOf(Cluster);
    expect(clients.readers).toHaveLength(6);
    expect(logger.all()).not.toMatch(/CROSSSLOT|MOVED|ASK /);
  });

  it('takes ready Cluster instances for server and client, and leaves them open', async () => {
    const stream = await streamOn(cluster, cluster.nodes[0]!.port, 'own');
    const serverCluster = new Cluster(cluster.addresses);
    const clientCluster = new Cluster(cluster.addresses);
    scene.defer(() => serverCluster.disconnect());
    scene.defer(() => clientCluster.disconnect());
    await Promise.all([waitForReady(serverCluster), waitForReady(clientCluster)]);
    const calls = new ClusterCalls();
    const { app } = await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, connection: serverCluster }),
      [callsProvider(calls)],
    );
    const client = scene.track(new RedisStreamsClient({ connection: clientCluster }));
    const id = await emit(client, stream, { n: 1 });
    await waitFor(() => calls.calls.length === 1, { message: 'the entry handled' });
    expect(calls.calls[0]).toMatchObject({ stream, id, deliveries: 1, data: { n: 1 } });
    expect(client.unwrap<Cluster>()).not.toBe(clientCluster);
    await scene.close(app);
    await scene.close(client);
    expect(serverCluster.status).toBe('ready');
    expect(clientCluster.status).toBe('ready');
    expect(await serverCluster.ping()).toBe('PONG');
  });

  it('retries a failing entry and dead-letters a poison one into the stream of the same slot, atomically', async () => {
    const stream = await streamOn(cluster, cluster.nodes[1]!.port, 'poison');
    const calls = new ClusterCalls((call) => {
      const { n } = call.data as { n: number };
      if (n === 2 || (n === 1 && call.deliveries < 2)) throw new Error(`entry ${n} failed`);
    });
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, {
        group: scene.group,
        consumer: 'c1',
        maxDeliveries: 3,
        claimIdleMs: 1_000,
        retry: { baseDelayMs: 50, maxDelayMs: 200, jitter: 0 },
      }),
      [callsProvider(calls)],
    );
    const client = clusterClient();
    const retried = await emit(client, stream, { n: 1 });
    const poison = await emit(client, stream, { n: 2 });
    const deadLetterStream = `${stream}:dlq`;
    await waitFor(async () => (await admin.xlen(deadLetterStream)) === 1 && (await pendingOn(admin, stream, scene.group)) === 0, {
      message: 'the poison entry dead-lettered and nothing pending',
    });
    expect(calls.calls.filter((call) => call.id === retried).map((call) => call.deliveries)).toEqual([1, 2]);
    expect(calls.calls.filter((call) => call.id === poison).map((call) => call.deliveries)).toEqual([1, 2, 3]);
    const [[, flat]] = (await admin.xrange(deadLetterStream, '-', '+')) as [[string, string[]]];
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
    expect(fields.get(DEAD_LETTER_FIELDS.stream)).toBe(stream);
    expect(fields.get(DEAD_LETTER_FIELDS.id)).toBe(poison);
    expect(fields.get(DEAD_LETTER_FIELDS.deliveries)).toBe('3');
    expect(fields.get(DEAD_LETTER_FIELDS.error)).toBeDefined();
  });

  it('reclaims the entries a dead consumer left pending', async () => {
    const stream = await streamOn(cluster, cluster.nodes[2]!.port, 'reclaim');
    await admin.xgroup('CREATE', stream, scene.group, '$', 'MKSTREAM');
    const ids: string[] = [];
    for (let n = 0; n < 4; n += 1) ids.push((await admin.xadd(stream, '*', 'n', String(n)))!);
    // A consumer that read them and died: they stay pending on it.
    await admin.xreadgroup('GROUP', scene.group, 'dead', 'COUNT', 10, 'STREAMS', stream, '>');
    expect(await pendingOn(admin, stream, scene.group)).toBe(4);
    const calls = new ClusterCalls();
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'alive', claimIdleMs: 500 }),
      [callsProvider(calls)],
    );
    await waitFor(async () => calls.calls.length === 4 && (await pendingOn(admin, stream, scene.group)) === 0, {
      message: 'the dead consumer’s entries reclaimed and acked',
    });
    expect(calls.calls.map((call) => [call.id, call.consumer, call.deliveries])).toEqual(ids.map((id) => [id, 'alive', 2]));
  });

  it('reclaims the entries of a consumer process that was SIGKILLed while handling them', async () => {
    const stream = await streamOn(cluster, cluster.nodes[0]!.port, 'killed');
    // The fixture records into keys of one slot: it writes them in one MULTI.
    const record = `{${scene.record}}`;
    const doomed = spawnConsumer(
      consumerConfig({ url: '', cluster: cluster.addresses, stream, group: scene.group, consumer: 'doomed', record, behaviour: 'hang' }),
    );
    scene.defer(() => doomed.kill('SIGKILL'));
    await doomed.ready;
    const client = clusterClient();
    const ids: string[] = [];
    for (let n = 0; n < 4; n += 1) ids.push(await emit(client, stream, { n }));
    await waitFor(async () => (await admin.llen(`${record}:started`)) === 4, { message: 'the doomed consumer to start all four' });
    await doomed.kill('SIGKILL');
    const calls = new ClusterCalls();
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'alive', claimIdleMs: 1_000 }),
      [callsProvider(calls)],
    );
    await waitFor(async () => calls.calls.length === 4 && (await pendingOn(admin, stream, scene.group)) === 0, {
      message: 'the killed consumer’s entries reclaimed and acked',
    });
    expect(calls.calls.map((call) => [call.id, call.deliveries]).sort()).toEqual(ids.map((id) => [id, 2]).sort());
  });

  it('refuses at start a dead-letter stream in another slot, saying how to fix it, and takes one with the same hash tag', async () => {
    const stream = `${scene.name('untagged')}:orders`;
    const refused = scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, deadLetter: { stream: (s) => `${s}:dlq` } }),
      [callsProvider(new ClusterCalls())],
    );
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).message).toContain(`"${stream}:dlq" is in slot ${keySlot(`${stream}:dlq`)}`);
    expect((error as InvalidOptionsError).message).toContain(`"{${stream}}:dlq"`);
    // Nothing was created: the check runs before connecting.
    expect(await admin.exists(stream)).toBe(0);

    const calls = new ClusterCalls(() => {
      throw new Error('poison');
    });
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, {
        group: scene.group,
        maxDeliveries: 1,
        deadLetter: { stream: (s) => `{${s}}:dead` },
      }),
      [callsProvider(calls)],
    );
    const client = clusterClient();
    await emit(client, stream, { n: 1 });
    await waitFor(async () => (await admin.xlen(`{${stream}}:dead`)) === 1, { message: 'the dead letter in {stream}:dead' });
  });

  it('interrupts a blocked read on its node at close, long before blockMs', async () => {
    const port = cluster.nodes[1]!.port;
    const stream = await streamOn(cluster, port, 'close');
    const { app } = await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, consumer: 'c1', blockMs: 30_000 }),
      [callsProvider(new ClusterCalls())],
    );
    const readName = connectionName(scene.group, 'c1', 'read');
    await waitFor(async () => (await clientsNamed(cluster, port, readName)).some((client) => client.cmd === 'xreadgroup'), {
      message: 'the read to block',
    });
    const unblocks = await unblockCalls(port);
    const startedAt = Date.now();
    await scene.close(app);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    // CLIENT UNBLOCK went to the reader's node (client ids are per node), not elsewhere.
    expect(await unblockCalls(port)).toBeGreaterThanOrEqual(unblocks + 1);
  });

  /** CLIENT UNBLOCK calls a node has served (Redis 6.2 counts CLIENT subcommands together). */
  async function unblockCalls(port: number): Promise<number> {
    const stats = await cluster.node(port).info('commandstats');
    const calls = /cmdstat_client\|unblock:calls=(\d+)/.exec(stats) ?? /cmdstat_client:calls=(\d+)/.exec(stats);
    return Number(calls?.[1] ?? 0);
  }

  it('refuses a second live server under the same consumer name, whichever master its connections are on', async () => {
    const first = await streamOn(cluster, cluster.nodes[0]!.port, 'name-a');
    const second = await streamOn(cluster, cluster.nodes[2]!.port, 'name-b');
    await scene.start([recordingController([first])], clusterServerOptions(cluster, { group: scene.group, consumer: 'same' }), [
      callsProvider(new ClusterCalls()),
    ]);
    const refused = scene.start([recordingController([second])], clusterServerOptions(cluster, { group: scene.group, consumer: 'same' }), [
      callsProvider(new ClusterCalls()),
    ]);
    await expect(refused).rejects.toBeInstanceOf(ConsumerNameInUseError);
  });

  it('refuses a connection for one Redis that reaches a node of the cluster', async () => {
    const stream = await streamOn(cluster, cluster.nodes[0]!.port, 'plain');
    const refused = scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, { group: scene.group, connection: { host: '127.0.0.1', port: cluster.nodes[0]!.port } }),
      [callsProvider(new ClusterCalls())],
    );
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('{ cluster: [{ host, port }, ...] }');
  });

  it('works for a Redis user made on every node from the README cluster ACL rule, word for word: delivery, retry and dead letter', async () => {
    const stream = await streamOn(cluster, cluster.nodes[0]!.port, 'acl');
    expect(readmeAclRule(CLUSTER_RULE_MARKER)).toContain('+cluster|slots +cluster|info +asking');
    const asUser = await clusterUser(stream);
    const calls = new ClusterCalls((call) => {
      const { n } = call.data as { n: number };
      if (n === 3 || (n === 2 && call.deliveries < 2)) throw new Error(`entry ${n} failed`);
    });
    const logger = new CapturingLogger();
    await scene.start(
      [recordingController([stream])],
      clusterServerOptions(cluster, {
        group: scene.group,
        connection: asUser,
        maxDeliveries: 2,
        claimIdleMs: 1_000,
        retry: { baseDelayMs: 50, maxDelayMs: 200, jitter: 0 },
      }),
      [callsProvider(calls)],
      { logger },
    );
    const client = scene.track(new RedisStreamsClient({ connection: asUser }));
    for (const n of [1, 2, 3]) await emit(client, stream, { n });
    await waitFor(
      async () =>
        calls.succeeded.get(stream)?.size === 2 &&
        (await admin.xlen(`${stream}:dlq`)) === 1 &&
        (await pendingOn(admin, stream, scene.group)) === 0,
      { message: 'two entries handled (one after a retry), one dead-lettered, nothing pending' },
    );
    expect(logger.all()).not.toMatch(/NOPERM|permission/i);
  });

  it('fails start with a clear error for a user who may not run CLUSTER SLOTS or CLUSTER INFO', async () => {
    const stream = await streamOn(cluster, cluster.nodes[0]!.port, 'acl-no');
    const start = async (connection: Awaited<ReturnType<typeof clusterUser>>) =>
      scene
        .start(
          [recordingController([stream])],
          clusterServerOptions(cluster, { group: scene.group, connection, connectTimeoutMs: 1_000 }),
          [callsProvider(new ClusterCalls())],
        )
        .catch((caught: unknown) => caught);
    const noSlots = await start(await clusterUser(stream, (rule) => rule.replace(' +cluster|slots', '')));
    expect(noSlots).toBeInstanceOf(RedisConnectionError);
    // Redis 7 names the subcommand; 6.2 says "the 'cluster' command or its subcommand".
    expect((noSlots as Error).message).toMatch(/NOPERM .*'cluster(\|slots)?' command/);
    // ioredis keeps retrying a refused ready check without a word: the timeout says what to check.
    const noInfo = await start(await clusterUser(stream, (rule) => rule.replace(' +cluster|info', '')));
    expect(noInfo).toBeInstanceOf(RedisConnectionError);
    expect((noInfo as Error).message).toContain('CLUSTER INFO');
  });

  /** A user made on every node from the README cluster rule for `stream` (after `edit`); the connection as that user. */
  async function clusterUser(stream: string, edit: (rule: string) => string = (rule) => rule) {
    const user = scene.name('acl-user');
    const password = `secret-${scene.name('pw')}`;
    const rule = edit(readmeAclRule(CLUSTER_RULE_MARKER))
      .replaceAll('<user>', user)
      .replaceAll('<password>', password)
      .replaceAll('<stream>', stream);
    const [acl, setuser, ...args] = rule.split(/\s+/);
    for (const { port } of cluster.nodes) {
      await cluster.node(port).call(acl!, setuser!, ...args);
      scene.defer(() => cluster.node(port).call('ACL', 'DELUSER', user));
    }
    return { cluster: cluster.addresses, clusterOptions: { redisOptions: { username: user, password } } };
  }

  it('fails start within connectTimeoutMs when no startup node answers, naming them', async () => {
    const port = await freePort();
    const startedAt = Date.now();
    const refused = scene.start(
      [recordingController(['{x}:never'])],
      clusterServerOptions(cluster, {
        group: scene.group,
        connection: { cluster: [{ host: '127.0.0.1', port }] },
        connectTimeoutMs: 1_000,
      }),
      [callsProvider(new ClusterCalls())],
    );
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toContain(`cluster 127.0.0.1:${port}`);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });
});

function waitForReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => cluster.once('ready', () => resolve()));
}
