import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { RedisStreamsServer } from '../src/index.js';
import { AppModule } from './app.module.js';
import { OrderLedger } from './order-ledger.js';
import { startLocalRedis, type LocalRedis } from '../test/support/local-redis.js';
import { LABELS_LIST, ORDERS_STREAM, PRICES_STREAM } from './orders.js';

const logger = new Logger('Sample');

async function redisForSample(): Promise<{ url: string; local?: LocalRedis }> {
  if (process.env.REDIS_URL) {
    logger.log('Using the Redis in REDIS_URL.');
    return { url: process.env.REDIS_URL };
  }
  const local = await startLocalRedis();
  logger.log(`REDIS_URL is not set: started a throwaway redis-server on ${local.url} (pid ${local.pid}); it stops with the sample.`);
  return { url: local.url, local };
}

/** Emits a few orders, invoices and price updates so there is something to see at once. */
async function seed(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for (let i = 0; i < 5; i += 1) {
      const orderId = await redis.xadd(ORDERS_STREAM, '*', 'sku', `SKU-${i}`, 'qty', String(i + 1));
      await redis.xadd('invoices', '*', 'orderEntryId', orderId ?? '');
      await redis.xadd(PRICES_STREAM, '*', 'sku', `SKU-${i}`, 'price', `${10 + i}.00`);
    }
    // Label jobs from a foreign producer: plain strings on a list queue.
    await redis.rpush(LABELS_LIST, 'SKU-0', 'SKU-1', 'SKU-2');
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const isOnce = process.argv.includes('--once');
  const { url, local } = await redisForSample();
  const app = await NestFactory.create(AppModule.forRedis(url));
  app.connectMicroservice(
    { strategy: new RedisStreamsServer({ connection: url, group: 'sample', consumer: 'sample-1', claimIdleMs: 5_000 }) },
    // Global enhancers (the exception filter in AppModule) apply to the stream handlers too.
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const appUrl = await app.getUrl();
  logger.log(`HTTP on ${appUrl}. Try:`);
  logger.log(`  curl -X POST ${appUrl}/orders -H 'content-type: application/json' -d '{"sku":"B2","qty":3}'`);
  logger.log(`  curl '${appUrl}/orders/quote?sku=B2&qty=3'     # request-reply over the "quotes" stream`);
  logger.log(`  curl ${appUrl}/orders/status`);
  logger.log(`  redis-cli -u ${url} XPENDING invoices sample     # failed invoices wait here for a retry`);
  logger.log(`  redis-cli -u ${url} XRANGE '{invoices}:dlq' - +     # and land here after 3 tries`);
  logger.log(`  redis-cli -u ${url} XADD ${PRICES_STREAM} '*' sku A1 price 9.99   # every instance's cache hears it (broadcast)`);
  logger.log(`  redis-cli -u ${url} RPUSH ${LABELS_LIST} SKU-9         # a job for the list queue; one consumer takes it`);
  await seed(url);

  let isStopping = false;
  const stop = async (): Promise<void> => {
    if (isStopping) return;
    isStopping = true;
    await app.close();
    await local?.stop();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  if (isOnce) {
    const ledger = app.get(OrderLedger);
    const deadline = Date.now() + 10_000;
    const isDone = (): boolean => ledger.summary().shipped >= 5 && ledger.summary().prices >= 5 && ledger.summary().labels >= 3;
    while (!isDone() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    logger.log(`Handled so far: ${JSON.stringify(ledger.summary())}`);
    const quote = (await (await fetch(`${appUrl}/orders/quote?sku=B2&qty=3`)).json()) as { totalCents?: number };
    logger.log(`Quote over request-reply: ${JSON.stringify(quote)}`);
    await stop();
    if (!isDone() || quote.totalCents !== 3_750) process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
