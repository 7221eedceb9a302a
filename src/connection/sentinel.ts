import type { Redis, RedisOptions } from 'ioredis';

/**
 * What the transport adds to a connection through Redis Sentinel: ioredis'
 * `failoverDetector`, unless the options say otherwise. With it, a client
 * subscribes to the sentinels' `+switch-master` and reconnects to the new
 * master as soon as a failover is announced. Without it, a client stays on the
 * former master until that one is turned into a replica, which Sentinel does
 * only some seconds later (about ten): reads there miss what producers already
 * write to the new master, and what is written there is lost when it resyncs.
 *
 * @param options - the user's ioredis options (for an ioredis instance, its
 *   options, in which ioredis has filled `failoverDetector: false` by default,
 *   so an instance always gets the detector)
 */
export function sentinelOverrides(options: Pick<RedisOptions, 'sentinels' | 'failoverDetector'>): Pick<RedisOptions, 'failoverDetector'> {
  const isSentinel = Array.isArray(options.sentinels) && options.sentinels.length > 0;
  if (!isSentinel) return {};
  return { failoverDetector: options.failoverDetector ?? true };
}

/**
 * Ends ioredis' failover-detector connections to the sentinels of a client
 * that has quit: `quit()` ends the client's own connection but leaves those
 * subscriptions open (ioredis tells the detector only on `disconnect()`), and
 * they would keep the process alive.
 */
export function endFailoverDetection(redis: Redis): void {
  if (redis.options.failoverDetector === true) redis.disconnect();
}
