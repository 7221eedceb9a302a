/** Stops the suite's redis-server, if global setup started one. */
export default async function globalTeardown(): Promise<void> {
  const redis = globalThis.__NRS_REDIS__;
  if (redis !== undefined) {
    await redis.stop();
    delete process.env.REDIS_URL;
  }
}
