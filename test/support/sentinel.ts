import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisServerBinary, waitForExit, waitForPort } from './local-redis.js';
import { waitFor } from './wait.js';

/** The master name the sentinels monitor. */
export const SENTINEL_MASTER_NAME = 'mymaster';

/** One process of the setup. */
interface Node {
  readonly role: string;
  readonly port: number;
  readonly child: ChildProcess;
}

/** A master, a replica and three sentinels on loopback ports, with the sentinels' timers shortened. */
export interface SentinelSetup {
  /** The sentinels' addresses, as ioredis' `sentinels` option takes them. */
  readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** The port of the master at start. */
  readonly masterPort: number;
  /** The port of the replica at start. */
  readonly replicaPort: number;
  /** Server and client connection settings through the sentinels. */
  connection(): { sentinels: Array<{ host: string; port: number }>; name: string };
  /** The port the sentinels name as the master now. */
  currentMasterPort(): Promise<number>;
  /**
   * Runs `SENTINEL FAILOVER` and waits until every sentinel names the former
   * replica as the master, and the former master has become its replica.
   *
   * @returns the new master's port
   */
  failover(): Promise<number>;
  /** Stops every process (by PID, SIGTERM then SIGKILL) and removes the directory. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

function launch(role: string, port: number, args: string[]): Node {
  const child = spawn(redisServerBinary(), args, { stdio: 'ignore' });
  return { role, port, child };
}

function serverArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
}

/**
 * Starts the setup: a master, a replica of it (`--replicaof`), and three
 * sentinels (`redis-server <conf> --sentinel`, quorum 2) whose config files
 * live in a temporary directory; resolves once the replica is in sync and
 * every sentinel knows the replica and the two other sentinels, so that a
 * failover can start at once.
 */
export async function startSentinelSetup(): Promise<SentinelSetup> {
  // A free port can be taken by another process between freePort() and the
  // node's bind (the suite runs files in parallel): that node exits at once,
  // and the whole setup starts again on new ports.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startSentinelSetupOnce();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/exited with code/.test(error.message)) throw error;
    }
  }
}

/** Five distinct free ports: master, replica, three sentinels. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function startSentinelSetupOnce(): Promise<SentinelSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'nrs-sentinel-'));
  const nodes: Node[] = [];
  const admins: Redis[] = [];
  const admin = (port: number): Redis => {
    const redis = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    admins.push(redis);
    return redis;
  };
  const stop = async (): Promise<void> => {
    for (const redis of admins.splice(0)) redis.disconnect();
    await Promise.all(nodes.splice(0).map(({ child }) => waitForExit(child, 'SIGTERM', 3_000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [masterPort, replicaPort, ...sentinelPorts] = (await distinctFreePorts(5)) as [number, number, number, number, number];
    for (const [role, port, extra] of [
      ['master', masterPort, []],
      ['replica', replicaPort, ['--replicaof', HOST, String(masterPort)]],
    ] as const) {
      const nodeDir = join(dir, role);
      mkdirSync(nodeDir);
      nodes.push(launch(role, port, [...serverArgs(port, nodeDir), ...extra]));
    }
    for (const [index, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${index}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 3000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      nodes.push(launch(`sentinel-${index}`, port, [conf, '--sentinel', '--loglevel', 'warning']));
    }
    for (const node of nodes) await waitForPort(node.port, node.child, 10_000);

    const replica = admin(replicaPort);
    await waitFor(async () => /master_link_status:up/.test(await replica.info('replication')), {
      timeoutMs: 15_000,
      message: 'the replica to sync with the master',
    });
    const sentinels = sentinelPorts.map((port) => admin(port));
    await waitFor(
      async () => {
        for (const sentinel of sentinels) {
          const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[];
          const peers = (await sentinel.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[];
          if (replicas.length < 1 || peers.length < 2) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'every sentinel to know the replica and the other sentinels' },
    );

    const masterPortOf = async (sentinel: Redis): Promise<number> => {
      const [, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as [string, string];
      return Number(port);
    };
    return {
      sentinels: sentinelPorts.map((port) => ({ host: HOST, port })),
      masterPort,
      replicaPort,
      connection: () => ({ sentinels: sentinelPorts.map((port) => ({ host: HOST, port })), name: SENTINEL_MASTER_NAME }),
      currentMasterPort: () => masterPortOf(sentinels[0]!),
      async failover() {
        const before = await masterPortOf(sentinels[0]!);
        const after = before === masterPort ? replicaPort : masterPort;
        await sentinels[0]!.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
        await waitFor(async () => (await Promise.all(sentinels.map(masterPortOf))).every((port) => port === after), {
          timeoutMs: 15_000,
          intervalMs: 50,
          message: `every sentinel to name 127.0.0.1:${after} the master`,
        });
        return after;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
