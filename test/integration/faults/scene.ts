import type { Redis } from 'ioredis';
import type { RunningConsumer } from '../../fixtures/consumer-app.js';
import { adminClient, redisUrl, uniqueName } from '../../support/redis.js';
import { killAllChildren, type ConsumerSpec } from './children.js';

/** What every fault spec works with: fresh keys per test, and what to stop after it. */
export interface FaultScene {
  readonly redis: Redis;
  readonly stream: string;
  readonly group: string;
  /** Prefix of the lists and sets consumer handlers record into. */
  readonly record: string;
  /** In-process consumers, closed after the test. */
  readonly consumers: RunningConsumer[];
  /** A consumer of this test's stream and group. */
  spec(consumer: string, extra?: Partial<ConsumerSpec>): ConsumerSpec;
}

/**
 * Registers the `beforeEach`/`afterEach` every fault spec needs: an admin
 * client and unique stream, group and record names per test; afterwards,
 * `beforeTeardown`, then every child process killed (by PID) and every
 * in-process consumer closed.
 */
export function useFaultScene(prefix: string, options: { beforeTeardown?: () => Promise<unknown> } = {}): FaultScene {
  let current: { redis: Redis; stream: string; group: string; record: string } | undefined;
  const now = () => {
    if (current === undefined) throw new Error('the fault scene exists only inside a test');
    return current;
  };
  const consumers: RunningConsumer[] = [];

  beforeEach(() => {
    current = { redis: adminClient(), stream: uniqueName(prefix), group: uniqueName('g'), record: uniqueName('rec') };
  });

  afterEach(async () => {
    await options.beforeTeardown?.();
    await killAllChildren();
    await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
    now().redis.disconnect();
    current = undefined;
  });

  return {
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
    consumers,
    spec: (consumer, extra = {}) => {
      const { stream, group, record } = now();
      return { url: redisUrl(), stream, group, record, consumer, ...extra };
    },
  };
}
