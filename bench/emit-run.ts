import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { batchSizeOf, concurrencyOf, contender } from './contenders.js';
import { entryFields, makePayload } from './payload.js';
import { KEYS, tell, waitForGo, type EmitJob, type RunResult } from './protocol.js';
import { startWindowProfiler, type WindowProfiler } from './window-profiler.js';

function profile(job: EmitJob): Promise<WindowProfiler | undefined> {
  return job.profilePath === undefined ? Promise.resolve(undefined) : startWindowProfiler(job.profilePath);
}

async function emitOurs(job: EmitJob, deadline: number): Promise<number> {
  // Imported here so the raw contender does not pay for loading NestJS.
  const { RedisStreamsClient } = await import('../src/index.js');
  const client = new RedisStreamsClient({ connection: { host: '127.0.0.1', port: job.port } });
  await client.connect();
  await tell({ type: 'ready' });
  await waitForGo();
  const profiler = await profile(job);
  // Emits in flight.
  const concurrency = concurrencyOf(job.contender);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < job.count && Date.now() < deadline) {
      const payload = makePayload(next);
      next += 1;
      await lastValueFrom(client.emit(KEYS.pattern, payload));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - t0;
  await profiler?.stop();
  await client.close();
  return elapsed;
}

async function xaddRaw(job: EmitJob, deadline: number): Promise<number> {
  const redis = new Redis({ host: '127.0.0.1', port: job.port });
  await redis.ping();
  await tell({ type: 'ready' });
  await waitForGo();
  const profiler = await profile(job);
  // Entries per pipeline.
  const batchSize = batchSizeOf(job.contender);
  const t0 = performance.now();
  for (let sent = 0; sent < job.count && Date.now() < deadline;) {
    const pipeline = redis.pipeline();
    const size = Math.min(batchSize, job.count - sent);
    for (let i = 0; i < size; i += 1) {
      pipeline.xadd(KEYS.stream, '*', ...entryFields(job.template, JSON.stringify(makePayload(sent + i))));
    }
    await pipeline.exec();
    sent += size;
  }
  const elapsed = performance.now() - t0;
  await profiler?.stop();
  await redis.quit();
  return elapsed;
}

/**
 * Producer-side throughput: our `emit()` with `concurrency` emits in flight
 * against raw XADD pipelined in batches of `batchSize` (bench/contenders.ts);
 * both JSON-encode every payload.
 */
export async function runEmit(job: EmitJob): Promise<RunResult> {
  const deadline = Date.now() + job.capMs;
  const { kind } = contender(job.contender);
  const elapsedMs = kind === 'emit-ours' ? await emitOurs(job, deadline) : await xaddRaw(job, deadline);
  const check = new Redis({ host: '127.0.0.1', port: job.port });
  const written = await check.xlen(KEYS.stream);
  check.disconnect();
  return { messages: written, elapsedMs, rate: (written * 1000) / elapsedMs, timedOut: written < job.count };
}
