import { startLocalRedis, type LocalRedis } from '../../sample/local-redis';
// Extensionless on purpose: Jest loads global setup through require(), where
// the .js-to-.ts mapping of the test files does not apply.

declare global {
  var __NRS_REDIS__: LocalRedis | undefined;
}

/** Starts one redis-server for the suite, unless REDIS_URL points at one. */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  const redis = await startLocalRedis();
  globalThis.__NRS_REDIS__ = redis;
  process.env.REDIS_URL = redis.url;
}
