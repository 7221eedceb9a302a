import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis-client.js';

/**
 * Lets the commands of one turn leave in one socket write: the first corks the
 * socket, and it is uncorked once the turn's promise continuations have run
 * (a `nextTick` scheduled from them runs after them). Without it every command
 * is a write of its own. The socket itself says whether it is corked, so a
 * reconnect's new socket is never taken for the old one.
 */
export function coalesceWrites(redis: RedisClient): void {
  // A cluster writes to a socket per node; ioredis' own queueing applies there.
  if (isCluster(redis)) return;
  const socket = redis.stream as Redis['stream'] | undefined;
  if (socket === undefined || socket.writableCorked > 0 || redis.status !== 'ready') return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}
