import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway `redis-server` on a free loopback port. */
export interface LocalRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server hard and starts it again on the same port and directory. */
  restart(): Promise<void>;
}

/** Options for {@link startLocalRedis}. */
export interface LocalRedisOptions {
  /** Turn the append-only file on, so a restart keeps the data. */
  appendOnly?: boolean;
  /** Port to use; a free one when unset. */
  port?: number;
  /** Redis' `maxclients`; Redis' default when unset. */
  maxClients?: number;
}

/**
 * The `redis-server` binary every test and benchmark starts: `REDIS_SERVER`
 * (a path, for the version matrix: `REDIS_SERVER=../shared/redis/redis-6.2.16/redis-server`),
 * else the one on the PATH.
 */
export function redisServerBinary(): string {
  return process.env.REDIS_SERVER || 'redis-server';
}

/** Whether the `redis-server` binary can be run. */
export function hasRedisServer(): boolean {
  return spawnSync(redisServerBinary(), ['--version']).status === 0;
}

/** Finds a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`; fails if `child` exits first or after `timeoutMs`. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not accept connections on port ${port} within ${timeoutMs} ms`);
}

function launch(port: number, dir: string, options: LocalRedisOptions): ChildProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly === true ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.maxClients === undefined ? [] : ['--maxclients', String(options.maxClients)]),
  ];
  return spawn(redisServerBinary(), args, { stdio: 'ignore' });
}

/** Sends `signal` to `child` and waits for it to exit, SIGKILLing it after `timeoutMs`. */
export function waitForExit(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
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

/**
 * Starts `redis-server` on a free loopback port with a temporary directory.
 *
 * @throws Error naming the install command when redis-server is missing
 */
export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  if (process.env.REDIS_SERVER && !hasRedisServer()) {
    const where = existsSync(process.env.REDIS_SERVER) ? 'cannot be run' : 'does not exist';
    throw new Error(
      `REDIS_SERVER=${process.env.REDIS_SERVER} ${where}: point it at a redis-server binary, or unset it to use the one on the PATH.`,
    );
  }
  if (!hasRedisServer()) {
    throw new Error(
      'redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL to a running Redis.',
    );
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nrs-redis-'));
  let child = launch(port, dir, options);
  await waitForPort(port, child, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      await waitForExit(child, 'SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await waitForExit(child, 'SIGKILL', 0);
      child = launch(port, dir, options);
      await waitForPort(port, child, 10_000);
    },
  };
}
