import type { LoggerService, Type } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { RedisStreamsClient, type RedisStreamsClientOptions, type RedisStreamsServerOptions } from '../../src/index.js';
import { runConsumer, type RunningConsumer } from '../fixtures/consumer-app.js';
import { createMicroservice, testClient, type Microservice, type ValueProvider } from './apps.js';
import { consumerConfig, killAllChildren, spawnConsumer, type ChildConsumer, type ConsumerSpec } from './children.js';
import { startLocalRedis, type LocalRedis, type LocalRedisOptions } from './local-redis.js';
import { RedisProbe } from './probe.js';
import { EntryProducer } from './produce.js';
import { adminClient, redisUrl, uniqueName } from './redis.js';

/** Anything a test opens that has a `close()`: apps, clients, in-process consumers. */
export interface Closable {
  close(): unknown;
}

/**
 * What every integration spec works with: fresh names per test, helpers that
 * start what the test needs, and a teardown that ends all of it.
 */
export interface Scene {
  /** An admin connection to the suite's Redis, for setting up and asserting. */
  readonly redis: Redis;
  /** This test's stream (`<prefix>-<random>`). */
  readonly stream: string;
  /** This test's consumer group. */
  readonly group: string;
  /** Key prefix the fixture consumers record into. */
  readonly record: string;
  /** Reads this test's stream, group, dead letters, connections and records. */
  readonly probe: RedisProbe;
  /** Writes entries to this test's stream (XADD, pipelined, or our client's emit). */
  readonly produce: EntryProducer;
  /** A producer client on the suite's Redis, made on first use. */
  readonly client: RedisStreamsClient;
  /** Another unique name (a second group, a throwaway key). */
  name(prefix: string): string;
  /**
   * Creates a standalone microservice, has it closed after the test (even when
   * `listen()` fails), then listens.
   */
  start(
    controllers: Type<unknown>[],
    options: RedisStreamsServerOptions,
    providers?: ValueProvider[],
    extras?: { logger?: LoggerService },
  ): Promise<Microservice>;
  /** Another producer client (the suite's Redis unless `connection` says otherwise). */
  newClient(options?: Partial<RedisStreamsClientOptions>): RedisStreamsClient;
  /** Another admin connection, for instance to a Redis of the test's own. */
  admin(url: string, options?: RedisOptions): Redis;
  /** A redis-server of the test's own, stopped after it. */
  ownRedis(options?: LocalRedisOptions): Promise<LocalRedis>;
  /** A fixture consumer of this test's stream, group and record (see test/fixtures/consumer-app.ts). */
  spec(consumer: string, extra?: Partial<ConsumerSpec>): ConsumerSpec;
  /** Runs a fixture consumer in this process. */
  runConsumer(consumer: string, extra?: Partial<ConsumerSpec>): Promise<RunningConsumer>;
  /** Runs a fixture consumer in a child process, SIGKILLed after the test if still running. */
  spawnConsumer(consumer: string, extra?: Partial<ConsumerSpec>): ChildConsumer;
  /** Has `closable` closed after the test; returns it. */
  track<T extends Closable>(closable: T): T;
  /** Runs `cleanup` after the test. */
  defer(cleanup: () => unknown): void;
  /** Closes a tracked `closable` now, and not again after the test. */
  close(closable: Closable): Promise<void>;
}

interface Cleanup {
  readonly target: unknown;
  readonly run: () => unknown;
}

interface Current {
  readonly redis: Redis;
  readonly stream: string;
  readonly group: string;
  readonly record: string;
  readonly probe: RedisProbe;
  readonly produce: EntryProducer;
  client: RedisStreamsClient | undefined;
  readonly cleanups: Cleanup[];
}

/**
 * Registers the `beforeEach`/`afterEach` of a spec: per test, an admin
 * connection and unique stream (`<prefix>-…`), group and record names;
 * afterwards, everything the test made through the scene is ended in reverse
 * order (apps and clients closed, consumers closed, children killed, own
 * redis-servers stopped, deferred cleanups run), then any child still running
 * is killed (by PID) and the admin connection closed.
 */
export function useScene(prefix: string): Scene {
  let current: Current | undefined;
  const now = (): Current => {
    if (current === undefined) throw new Error('the scene exists only inside a test');
    return current;
  };
  const push = (target: unknown, run: () => unknown): void => {
    now().cleanups.push({ target, run });
  };
  const track = <T extends Closable>(closable: T): T => {
    push(closable, () => closable.close());
    return closable;
  };

  beforeEach(() => {
    const redis = adminClient();
    const stream = uniqueName(prefix);
    const group = uniqueName('g');
    const record = uniqueName('rec');
    const client = () => scene.client;
    current = {
      redis,
      stream,
      group,
      record,
      probe: new RedisProbe({ redis, stream, group, record }),
      produce: new EntryProducer({ redis, stream, client }),
      client: undefined,
      cleanups: [],
    };
  });

  afterEach(async () => {
    const { redis, cleanups } = now();
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup.run();
      } catch (error) {
        errors.push(error);
      }
    }
    await killAllChildren();
    redis.disconnect();
    current = undefined;
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cleanup(s) of the scene failed`);
  });

  const scene: Scene = {
    get redis() {
      return now().redis;
    },
    get stream() {
      return now().stream;
    },
    get group() {
      return now().group;
    },
    get record() {
      return now().record;
    },
    get probe() {
      return now().probe;
    },
    get produce() {
      return now().produce;
    },
    get client() {
      const at = now();
      at.client ??= track(testClient());
      return at.client;
    },
    name: uniqueName,
    async start(controllers, options, providers = [], extras = {}) {
      const started = await createMicroservice(controllers, options, providers, extras);
      track(started.app);
      await started.app.listen();
      return started;
    },
    newClient: (options = {}) => track(new RedisStreamsClient({ connection: redisUrl(), ...options })),
    admin(url, options) {
      const redis = adminClient(url, options);
      push(redis, () => redis.disconnect());
      return redis;
    },
    async ownRedis(options) {
      const server = await startLocalRedis(options);
      push(server, () => server.stop());
      return server;
    },
    spec(consumer, extra = {}) {
      const { stream, group, record } = now();
      return { url: redisUrl(), stream, group, record, consumer, ...extra };
    },
    async runConsumer(consumer, extra) {
      return track(await runConsumer(consumerConfig(scene.spec(consumer, extra))));
    },
    spawnConsumer(consumer, extra) {
      const child = spawnConsumer(consumerConfig(scene.spec(consumer, extra)));
      push(child, () => child.kill('SIGKILL'));
      return child;
    },
    track,
    defer: (cleanup) => push(undefined, cleanup),
    async close(closable) {
      const { cleanups } = now();
      const at = cleanups.findIndex((cleanup) => cleanup.target === closable);
      if (at === -1) throw new Error('scene.close() is for what the scene tracks');
      const [cleanup] = cleanups.splice(at, 1);
      await cleanup!.run();
    },
  };
  return scene;
}
