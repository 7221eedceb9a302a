import { Cluster, type ClusterOptions } from 'ioredis';
import type { RedisClusterConnection } from '../interfaces/connection.interface.js';
import { isClusterInstance } from '../options/connection-option.js';
import { ConnectTimeout, connectionError, isReplyError } from './connect-failure.js';
import { DISCONNECT_TIMEOUT_MS, reconnectDelayMs, type ConnectionOverrides } from './redis-client.js';

/** Where each cluster we opened points, for messages: its startup nodes. */
const startupNodes = new WeakMap<Cluster, string>();

/**
 * Opens (lazily) an ioredis `Cluster` for a cluster description, or a
 * duplicate of a ready `Cluster` (the user's own is never used or closed).
 * Our settings apply to every node connection (`redisOptions`); the
 * cluster-wide ones (`enableAutoPipelining`, `enableOfflineQueue`) to the
 * cluster, which reads from masters only (`scaleReads: 'master'`).
 */
export function createCluster(connection: Cluster | RedisClusterConnection, overrides: ConnectionOverrides): Cluster {
  const { enableAutoPipelining, enableOfflineQueue, ...nodeOverrides } = overrides;
  const clusterOverrides: ClusterOptions = {
    lazyConnect: true,
    clusterRetryStrategy: reconnectDelayMs,
    // Reads must see our own writes (an entry just added, a claim just made):
    // a replica may not have them yet.
    scaleReads: 'master',
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
  };
  const redisOptions = { ...nodeOverrides, disconnectTimeout: DISCONNECT_TIMEOUT_MS };
  if (isClusterInstance(connection)) {
    // duplicate() merges redisOptions over the original's.
    const cluster = connection.duplicate([], { ...clusterOverrides, redisOptions });
    startupNodes.set(cluster, describeNodes(connection) ?? 'the Redis Cluster');
    return cluster;
  }
  const { clusterOptions = {} } = connection;
  const cluster = new Cluster([...connection.cluster], {
    ...clusterOptions,
    ...clusterOverrides,
    redisOptions: { ...clusterOptions.redisOptions, ...redisOptions },
  });
  startupNodes.set(cluster, `cluster ${connection.cluster.map(({ host, port }) => `${host}:${port}`).join(', ')}`);
  return cluster;
}

/** Where a cluster points, without credentials, for messages. */
export function describeCluster(cluster: Cluster): string {
  return startupNodes.get(cluster) ?? describeNodes(cluster) ?? 'the Redis Cluster';
}

/** The nodes a cluster client knows (none before it first connects). */
function describeNodes(cluster: Cluster): string | undefined {
  const nodes = cluster.nodes('master');
  if (nodes.length === 0) return undefined;
  return `cluster ${nodes.map((node) => `${node.options.host}:${node.options.port}`).join(', ')}`;
}

/**
 * Connects a cluster and waits for `ready` (ioredis has the slot map and a
 * node says `cluster_state:ok`), or fails within `timeoutMs` with an error
 * naming the startup nodes and what to fix; on failure the cluster stops
 * reconnecting.
 *
 * @throws RedisConnectionError when no node answers in time or a node refuses us
 */
export async function connectClusterWithin(cluster: Cluster, timeoutMs: number): Promise<void> {
  if (cluster.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectTimeout(
            timeoutMs,
            '; every startup node must be reachable or name the others, the cluster must be up (CLUSTER INFO says cluster_state:ok), and the user may run CLUSTER SLOTS and CLUSTER INFO',
          ),
        ),
      timeoutMs,
    );
  });
  // The cluster reports "Failed to refresh slots cache." with the last node's
  // error inside; each node's own error (ECONNREFUSED, WRONGPASS, NOPERM) says more.
  let lastError: unknown;
  let replyError: unknown;
  const remember = (error: unknown): void => {
    const inner = lastNodeError(error) ?? error;
    lastError = inner;
    if (isReplyError(inner)) replyError = inner;
  };
  cluster.on('error', remember);
  cluster.on('node error', remember);
  try {
    const connecting = cluster.status === 'wait' ? cluster.connect() : waitForReady(cluster);
    await Promise.race([connecting, timeout]);
  } catch (error) {
    cluster.disconnect();
    throw connectionError(describeCluster(cluster), error, replyError ?? lastError ?? error);
  } finally {
    clearTimeout(timer);
    cluster.off('error', remember);
    cluster.off('node error', remember);
  }
}

/** The node error inside ioredis' ClusterAllFailedError, if this is one. */
function lastNodeError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !('lastNodeError' in error)) return undefined;
  return error.lastNodeError ?? undefined;
}

function waitForReady(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.once('ready', () => resolve()));
}

/** Closes a cluster politely (QUIT on every node), falling back to a hard disconnect. */
export async function quitCluster(cluster: Cluster): Promise<void> {
  if (cluster.status === 'end') return;
  if (cluster.status !== 'ready') {
    await abandonCluster(cluster);
    return;
  }
  try {
    await cluster.quit();
  } catch {
    // The connections are going away either way.
    await abandonCluster(cluster);
  }
}

/** Longest wait for the last connection attempt of {@link abandonCluster}. */
const LAST_ATTEMPT_MS = 1_000;

/**
 * Closes a cluster for good and fails every command still waiting on it.
 * A cluster between two reconnect attempts holds no node connection, so
 * `disconnect()` alone would leave it "disconnecting" with its offline queue
 * unsettled; one last connection attempt, made after `disconnect()` marked
 * the close as manual, ends it and fails that queue if the cluster is still
 * away, or sends the queue if it is back. That attempt is bounded (a cluster
 * whose ready check fails never settles it) and followed by a disconnect.
 */
export async function abandonCluster(cluster: Cluster): Promise<void> {
  if (cluster.status === 'end') return;
  const isBetweenAttempts = cluster.status === 'reconnecting';
  cluster.disconnect();
  if (!isBetweenAttempts) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // Rejects when the cluster is still away: it has then ended and failed its queued commands.
    cluster.connect().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, LAST_ATTEMPT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!hasEnded(cluster)) cluster.disconnect();
}

function hasEnded(cluster: Cluster): boolean {
  return cluster.status === 'end';
}
