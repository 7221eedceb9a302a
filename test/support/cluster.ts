import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { redisServerBinary } from './local-redis.js';
import { waitFor } from './wait.js';

/** One `redis-server` of a {@link LocalCluster}. */
export interface ClusterNodeProcess {
  readonly port: number;
  readonly pid: number;
  /** Whether the process is still running (not killed by {@link LocalCluster.kill}). */
  readonly isRunning: boolean;
}

/** The address of a node, as ioredis and `redis-cli` take it. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** A throwaway Redis Cluster of local `redis-server` processes on 127.0.0.1. */
export interface LocalCluster {
  /** Every node, masters first as created (a replica's master may change after a failover). */
  readonly nodes: readonly ClusterNodeProcess[];
  /** The startup nodes, for `{ cluster: ... }`. */
  readonly addresses: NodeAddress[];
  /** A plain connection to one node, for CLUSTER and admin commands; closed by {@link stop}. */
  node(port: number): Redis;
  /** An ioredis Cluster client for setting up and asserting; closed by {@link stop}. */
  admin(): Cluster;
  /** The port of the master that serves `slot` now, as the nodes themselves say. */
  masterOf(slot: number): Promise<number>;
  /** The ports of the current masters, by CLUSTER SLOTS of a live node. */
  masters(): Promise<number[]>;
  /** SIGKILLs one node by PID. */
  kill(port: number): Promise<void>;
  /** Waits until every live node says `cluster_state:ok` and they agree on who serves every slot. */
  waitUntilStable(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL) and removes their directory. */
  stop(): Promise<void>;
}

/** Options for {@link startLocalCluster}. */
export interface LocalClusterOptions {
  /** How many masters; 3 by default. */
  readonly masters?: number;
  /** Replicas per master; 0 by default. */
  readonly replicas?: number;
  /** `cluster-node-timeout` in ms; 1000 by default, so that a failover takes a few seconds. */
  readonly nodeTimeoutMs?: number;
}

/**
 * The `redis-cli` that creates clusters: `REDIS_CLI`, else the one next to
 * `REDIS_SERVER`, else the one on the PATH.
 */
export function redisCliBinary(): string {
  if (process.env.REDIS_CLI) return process.env.REDIS_CLI;
  const server = process.env.REDIS_SERVER;
  if (server) {
    const sibling = join(dirname(server), 'redis-cli');
    if (existsSync(sibling)) return sibling;
  }
  return 'redis-cli';
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose cluster bus port (port + 10000, fixed on Redis 6.2) is
 * free too, and not among `taken`.
 */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

function launch(port: number, dir: string, nodeTimeoutMs: number): ChildProcess {
  return spawn(
    redisServerBinary(),
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      // A replica takes over however long it was cut off: the tests kill masters on purpose.
      '--cluster-replica-validity-factor',
      '0',
    ],
    { stdio: 'ignore' },
  );
}

function waitForExit(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** CLUSTER SLOTS rows: [start, end, [host, port, id, ...], ...replicas]. */
type SlotsReply = Array<[number, number, ...Array<[string, number, ...unknown[]]>]>;

/** Who serves every slot, by one node: a string to compare between nodes. */
function slotMap(reply: SlotsReply): string {
  return reply
    .map(([start, end, master]) => `${start}-${end}@${master?.[1]}`)
    .sort()
    .join(',');
}

/**
 * Starts `masters × (1 + replicas)` cluster-enabled `redis-server`s on free
 * loopback ports, creates the cluster with `redis-cli --cluster create`, and
 * waits until every node says `cluster_state:ok`, they agree on the slot map
 * and every replica is in sync with its master.
 *
 * @throws Error naming what is missing when redis-server or redis-cli cannot be run
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const { masters = 3, replicas = 0, nodeTimeoutMs = 1_000 } = options;
  if (spawnSync(redisCliBinary(), ['--version']).status !== 0) {
    throw new Error(`${redisCliBinary()} cannot be run; install redis-tools or set REDIS_CLI to a redis-cli binary.`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'nrs-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i += 1) ports.push(await freeClusterPort(taken));
  const children = new Map<number, ChildProcess>(ports.map((port) => [port, launch(port, dir, nodeTimeoutMs)]));
  const connections = new Map<number, Redis>();
  const admins: Cluster[] = [];
  const node = (port: number): Redis => {
    let redis = connections.get(port);
    if (redis === undefined) {
      redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 50, lazyConnect: false });
      redis.on('error', () => undefined);
      connections.set(port, redis);
    }
    return redis;
  };
  const isRunning = (port: number): boolean => {
    const child = children.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };
  const live = (): number[] => ports.filter(isRunning);

  const cluster: LocalCluster = {
    nodes: ports.map((port) => ({
      port,
      get pid() {
        return children.get(port)?.pid ?? -1;
      },
      get isRunning() {
        return isRunning(port);
      },
    })),
    addresses: ports.map((port) => ({ host: '127.0.0.1', port })),
    node,
    admin() {
      const admin = new Cluster(
        live().map((port) => ({ host: '127.0.0.1', port })),
        { redisOptions: { maxRetriesPerRequest: 1 }, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, maxRedirections: 50 },
      );
      admin.on('error', () => undefined);
      admins.push(admin);
      return admin;
    },
    async masterOf(slot) {
      for (const port of live()) {
        try {
          const reply = (await node(port).cluster('SLOTS')) satisfies SlotsReply;
          const row = reply.find(([start, end]) => slot >= start && slot <= end);
          if (row !== undefined) return row[2]![1];
        } catch {
          // Try the next node.
        }
      }
      throw new Error(`no live node knows who serves slot ${slot}`);
    },
    async masters() {
      for (const port of live()) {
        try {
          const reply = (await node(port).cluster('SLOTS')) satisfies SlotsReply;
          return [...new Set(reply.map((row) => row[2]![1]))].sort();
        } catch {
          // Try the next node.
        }
      }
      throw new Error('no live node answers CLUSTER SLOTS');
    },
    async kill(port) {
      const child = children.get(port);
      if (child === undefined) throw new Error(`no node on port ${port}`);
      await waitForExit(child, 'SIGKILL', 0);
      connections.get(port)?.disconnect();
      connections.delete(port);
    },
    async waitUntilStable(timeoutMs = 30_000) {
      await waitFor(
        async () => {
          try {
            const states = await Promise.all(live().map((port) => node(port).cluster('INFO')));
            if (!states.every((info) => info.includes('cluster_state:ok'))) return false;
            const maps = await Promise.all(live().map(async (port) => slotMap((await node(port).cluster('SLOTS')) satisfies SlotsReply)));
            if (new Set(maps).size !== 1) return false;
            const roles = await Promise.all(live().map((port) => node(port).info('replication')));
            // A replica still loading from its master, or a master that does not list it, is not settled yet.
            return roles.every((info) => !info.includes('role:slave') || info.includes('master_link_status:up'));
          } catch {
            return false;
          }
        },
        { timeoutMs, intervalMs: 50, message: 'the cluster to be stable (cluster_state:ok, one slot map)' },
      );
    },
    async stop() {
      for (const admin of admins) admin.disconnect();
      for (const redis of connections.values()) redis.disconnect();
      await Promise.all([...children.values()].map((child) => waitForExit(child, 'SIGTERM', 5_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await waitFor(
      async () => {
        for (const port of ports) {
          if (!isRunning(port)) throw new Error(`redis-server on port ${port} exited at start`);
        }
        const pings = await Promise.all(
          ports.map((port) =>
            node(port)
              .ping()
              .catch(() => 'no'),
          ),
        );
        return pings.every((reply) => reply === 'PONG');
      },
      { timeoutMs: 10_000, message: 'the cluster nodes to accept connections' },
    );
    const created = spawnSync(
      redisCliBinary(),
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    await cluster.waitUntilStable();
    if (replicas > 0) {
      await waitFor(
        async () => {
          const infos = await Promise.all(ports.map((port) => node(port).info('replication')));
          return infos.filter((info) => info.includes('role:master') && info.includes(`connected_slaves:${replicas}`)).length === masters;
        },
        { timeoutMs: 20_000, message: 'every master to have its replicas' },
      );
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * Moves one slot, with every key in it, from the master that serves it to
 * `targetPort`, by hand, the way `redis-cli --cluster reshard` does
 * (SETSLOT IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE on every master).
 * `between` runs after the keys have moved and before the slot is handed
 * over, while the source answers ASK for them.
 */
export async function moveSlot(
  cluster: LocalCluster,
  slot: number,
  targetPort: number,
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const sourcePort = await cluster.masterOf(slot);
  if (sourcePort === targetPort) throw new Error(`slot ${slot} is already on ${targetPort}`);
  const source = cluster.node(sourcePort);
  const target = cluster.node(targetPort);
  const sourceId = await source.cluster('MYID');
  const targetId = await target.cluster('MYID');
  await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId);
  await source.cluster('SETSLOT', slot, 'MIGRATING', targetId);
  for (;;) {
    const keys = await source.cluster('GETKEYSINSLOT', slot, 100);
    if (keys.length === 0) break;
    await source.call('MIGRATE', '127.0.0.1', targetPort, '', 0, 5_000, 'KEYS', ...keys);
  }
  await between();
  await target.cluster('SETSLOT', slot, 'NODE', targetId);
  await source.cluster('SETSLOT', slot, 'NODE', targetId);
  for (const port of await cluster.masters()) {
    if (port !== sourcePort && port !== targetPort) await cluster.node(port).cluster('SETSLOT', slot, 'NODE', targetId);
  }
}

/**
 * Moves the lowest slot `fromPort` serves to `toPort` with
 * `redis-cli --cluster reshard --cluster-slots 1`, as an operator would.
 *
 * @returns the slot moved
 */
export async function reshardLowestSlot(cluster: LocalCluster, fromPort: number, toPort: number): Promise<number> {
  const slot = await lowestSlotOf(cluster, fromPort);
  const fromId = await cluster.node(fromPort).cluster('MYID');
  const toId = await cluster.node(toPort).cluster('MYID');
  const resharded = spawnSync(
    redisCliBinary(),
    [
      '--cluster',
      'reshard',
      `127.0.0.1:${fromPort}`,
      '--cluster-from',
      fromId,
      '--cluster-to',
      toId,
      '--cluster-slots',
      '1',
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (resharded.status !== 0) throw new Error(`redis-cli --cluster reshard failed:\n${resharded.stdout}\n${resharded.stderr}`);
  if ((await cluster.masterOf(slot)) !== toPort)
    throw new Error(`redis-cli --cluster reshard did not move slot ${slot}:\n${resharded.stdout}`);
  return slot;
}

/** The lowest slot the master on `port` serves. */
export async function lowestSlotOf(cluster: LocalCluster, port: number): Promise<number> {
  const reply = await cluster.node(port).cluster('SLOTS');
  const starts = reply.filter((row) => row[2]?.[1] === port).map(([start]) => start);
  if (starts.length === 0) throw new Error(`node ${port} serves no slot`);
  return Math.min(...starts);
}
