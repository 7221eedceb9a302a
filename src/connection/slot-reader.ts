import { createConnection } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { AbstractConnector, Redis, type Cluster, type RedisOptions } from 'ioredis';
import { redisReplyKind } from '../errors/redis-reply.js';
import { keySlot } from '../routing/hash-slot.js';
import { DISCONNECT_TIMEOUT_MS, reconnectDelayMs, type ConnectionOverrides } from './redis-client.js';

/** A node as ioredis names it in its slot map: `host:port`. */
type NodeKey = string;

/** ioredis' connector constructor type (not exported by name). */
type ConnectorClass = NonNullable<RedisOptions['Connector']>;

/** Longest wait for a fresh slot map before a reconnect uses the one it has. */
const SLOT_REFRESH_WAIT_MS = 1_000;

/**
 * Where a blocking connection of a cluster connects: the master that serves
 * its key's slot, looked up in the command cluster's slot map on every
 * (re)connect. After the first connect, the map is refreshed first, so that
 * a reconnect after a `MOVED` (resharding), a failover or a lost node goes to
 * the node that serves the slot now.
 */
class SlotFollower {
  /** The node the connection went to last; CLIENT UNBLOCK must reach it there. */
  connectedTo: NodeKey | undefined;
  private hasConnected = false;

  constructor(
    private readonly cluster: Cluster,
    readonly slot: number,
    /** Used while the slot map names no node for the slot (it is being reassigned). */
    private readonly fallback: NodeKey,
  ) {}

  /** The node to connect to now. Never rejects: a connector that fails ends the ioredis client for good. */
  async owner(): Promise<NodeKey> {
    if (this.hasConnected) await refreshSlots(this.cluster);
    this.hasConnected = true;
    const owner = this.cluster.slots[this.slot]?.[0] ?? this.connectedTo ?? this.fallback;
    this.connectedTo = owner;
    return owner;
  }
}

/** For each blocking connection: the ready connection CLIENT UNBLOCK for it goes out on, if any. */
const unblockRoutes = new WeakMap<Redis, () => Redis | undefined>();

/**
 * Says where CLIENT UNBLOCK for `blocking` is sent from: a connection to the
 * same Redis (client ids are per node), asked for at the time of each unblock.
 */
export function setUnblockRoute(blocking: Redis, route: () => Redis | undefined): void {
  unblockRoutes.set(blocking, route);
}

/**
 * The connection from which CLIENT UNBLOCK reaches a blocking connection, when
 * one is ready: on one Redis, the command connection; on a cluster, the
 * command cluster's own connection to the node the blocking connection is
 * connected to now. Undefined for a connection opened elsewhere.
 */
export function unblockRoute(blocking: Redis): Redis | undefined {
  return unblockRoutes.get(blocking)?.();
}

/** Asks the cluster for a fresh slot map; resolves when it has one, failed, or after {@link SLOT_REFRESH_WAIT_MS}. */
function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SLOT_REFRESH_WAIT_MS);
    // A failed refresh leaves the old map: the connect then fails or is MOVED, and is retried.
    cluster.refreshSlotsCache(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `host:port` split at its last colon (an IPv6 host holds colons). */
function addressOf(node: NodeKey): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
}

/**
 * A connector (ioredis' own extension point, as for Sentinel) that opens the
 * socket to the node the follower names at the time of each connect.
 */
function followingConnector(follower: SlotFollower, options: Pick<RedisOptions, 'tls' | 'family'>): ConnectorClass {
  return class SlotOwnerConnector extends AbstractConnector {
    constructor() {
      super(DISCONNECT_TIMEOUT_MS);
    }

    override async connect(): ReturnType<AbstractConnector['connect']> {
      this.connecting = true;
      const { host, port } = addressOf(await follower.owner());
      // disconnect() during the lookup: give up like ioredis' own connector does.
      if (!this.connecting) throw new Error('Connection is closed.');
      const stream = options.tls
        ? connectTls({ ...options.tls, host, port })
        : createConnection({ host, port, ...(options.family === undefined ? {} : { family: options.family }) });
      stream.once('error', (error: Error) => {
        this.firstError = error;
      });
      this.stream = stream;
      return stream;
    }
  };
}

/**
 * Opens (lazily) a plain connection for blocking reads of `key` on a cluster:
 * a blocking XREADGROUP holds its connection, so it cannot share the
 * cluster's connection to the node. The connection goes to the master
 * serving the key's slot, and follows the slot: a `MOVED` reply (the slot was
 * resharded away, or a failover handed it to another node) makes it
 * reconnect, to the slot's owner by a fresh slot map; a lost node (killed
 * master) is left for the owner the map names once a replica has taken over.
 *
 * @param commands - the connected command cluster, whose slot map is followed
 * @param nodeOptions - the user's settings for node connections (credentials, tls)
 */
export function createSlotReader(
  commands: Cluster,
  key: string,
  nodeOptions: NonNullable<Cluster['options']['redisOptions']>,
  overrides: ConnectionOverrides,
): Redis {
  const keyPrefix = commands.options.keyPrefix;
  // ioredis prefixes the key of the read itself; the slot is the prefixed key's.
  const slot = keySlot(`${keyPrefix ?? ''}${key}`);
  const initial = commands.slots[slot]?.[0] ?? firstMaster(commands);
  const follower = new SlotFollower(commands, slot, initial);
  const userReconnect = nodeOptions.reconnectOnError;
  const redis = new Redis({
    ...nodeOptions,
    ...overrides,
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    // For messages only: the connector decides where each connect goes.
    ...addressOf(initial),
    lazyConnect: true,
    retryStrategy: reconnectDelayMs,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    Connector: followingConnector(follower, nodeOptions),
    // The read that got MOVED fails (the reader reads again); the connection
    // is dropped and reconnects to the slot's new owner.
    reconnectOnError: (error) => (redisReplyKind(error) === 'MOVED' ? 1 : (userReconnect?.(error) ?? false)),
  });
  setUnblockRoute(redis, () => nodeConnection(commands, follower.connectedTo));
  return redis;
}

function firstMaster(cluster: Cluster): NodeKey {
  const node = cluster.nodes('master')[0];
  if (node === undefined) throw new Error('the cluster knows no master node; connect it first');
  return `${node.options.host}:${node.options.port}`;
}

/** The cluster's own connection to a node, when it is ready. */
function nodeConnection(cluster: Cluster, node: NodeKey | undefined): Redis | undefined {
  if (node === undefined) return undefined;
  const route = cluster.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === node);
  return route?.status === 'ready' ? route : undefined;
}
