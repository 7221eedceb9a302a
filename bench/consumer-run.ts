import type { Redis } from 'ioredis';
import { familyOf } from './contenders.js';
import { connect, createConsumer, type RunningConsumer } from './consumers.js';
import { Probe, RssSampler, pollUntil, publishCount, sleep } from './probe.js';
import { KEYS, tell, waitForGo, type ConsumerJob, type RunResult } from './protocol.js';
import { startWindowProfiler } from './window-profiler.js';

/** How long an idle run waits after `listen()` before its window: the first pending scans go out then. */
const IDLE_SETTLE_MS = 2_000;
/** How long a finished drain may take to show every message settled in Redis. */
const SETTLE_TIMEOUT_MS = 5_000;
/** A pub/sub burst counts as over when nothing arrives for this long after the producer finished. */
const STALL_MS = 1_000;

async function producedSoFar(monitor: Redis): Promise<number> {
  return Number((await monitor.get(KEYS.produced)) ?? 0);
}

/** Pre-filled backlog (or a pub/sub burst): time until `count` messages are handled and settled. */
async function drain(job: ConsumerJob, probe: Probe, consumer: RunningConsumer, monitor: Redis, t0: number) {
  const deadline = t0 + job.capMs;
  if (familyOf(job.contender) === 'nest-redis') {
    let lastCount = -1;
    let lastChange = performance.now();
    while (probe.count < job.count && performance.now() < deadline) {
      await sleep(50);
      if (probe.count !== lastCount) {
        lastCount = probe.count;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > STALL_MS && (await producedSoFar(monitor)) >= job.count) {
        break;
      }
    }
    const timedOut = probe.count < job.count && performance.now() >= deadline;
    const end = probe.lastAt > 0 ? probe.lastAt : performance.now();
    const lost = Math.max(0, (await producedSoFar(monitor)) - probe.count);
    return { end, timedOut, unsettled: 0, lost };
  }
  const reached = await probe.whenCount(job.count, deadline - performance.now());
  const timedOut = reached === undefined;
  let unsettled = 0;
  if (!timedOut) {
    await pollUntil(async () => (await consumer.unsettled()) === 0, SETTLE_TIMEOUT_MS, 5);
    unsettled = await consumer.unsettled();
  }
  return { end: performance.now(), timedOut, unsettled, lost: undefined };
}

/** Concurrent producer: handled rate after a warm-up, and lag (produced minus handled). */
async function steady(job: ConsumerJob, probe: Probe, monitor: Redis, t0: number): Promise<RunResult> {
  const warmMs = Math.min(2_000, job.durationMs * 0.2);
  let startCount: number | undefined;
  let startAt = t0;
  let lagMax = 0;
  let lagFinal: number;
  for (;;) {
    await sleep(100);
    const now = performance.now();
    const lag = Math.max(0, (await producedSoFar(monitor)) - probe.count);
    if (startCount === undefined && now - t0 >= warmMs) {
      startCount = probe.count;
      startAt = now;
    }
    if (startCount !== undefined) lagMax = Math.max(lagMax, lag);
    if (now - t0 >= job.durationMs) {
      lagFinal = lag;
      break;
    }
  }
  const endAt = performance.now();
  const messages = probe.count - (startCount ?? 0);
  const elapsedMs = endAt - startAt;
  return { messages, elapsedMs, rate: (messages * 1000) / elapsedMs, timedOut: false, lagFinal, lagMax };
}

/** Calls per command so far (INFO commandstats), by command name (`xpending`, `client|unblock`). */
async function commandCalls(monitor: Redis): Promise<Map<string, number>> {
  const info = await monitor.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match !== null) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

/** Connections whose CLIENT SETNAME name starts with `prefix`. */
async function connectionsNamed(monitor: Redis, prefix: string): Promise<number> {
  const list = (await monitor.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${prefix}`)).length;
}

/**
 * An idle consumer: its connections once `listen()` has returned, then the
 * Redis commands it causes and the CPU its process uses over the window.
 */
async function idle(job: ConsumerJob, monitor: Redis, startupMs: number): Promise<RunResult> {
  const connections = await connectionsNamed(monitor, `nrs:${KEYS.group}:`);
  await sleep(IDLE_SETTLE_MS);
  const before = await commandCalls(monitor);
  const cpuBefore = process.cpuUsage();
  const startAt = performance.now();
  await sleep(job.durationMs);
  const after = await commandCalls(monitor);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = performance.now() - startAt;
  // The INFO that read `before` is counted in `after`.
  after.set('info', (after.get('info') ?? 1) - 1);
  const perSecond = [...after].map(([name, calls]) => [name, ((calls - (before.get(name) ?? 0)) * 1000) / elapsedMs] as const);
  const total = perSecond.reduce((sum, [, rate]) => sum + rate, 0);
  const top = perSecond
    .filter(([, rate]) => rate > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, rate]) => `${name} ${rate.toFixed(1)}/s`)
    .join(', ');
  return {
    messages: 0,
    elapsedMs,
    rate: 0,
    timedOut: false,
    startupMs,
    connections,
    idleCommandsPerS: total,
    idleTopCommands: top,
    idleCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
  };
}

/**
 * V8 heap in use after full collections (MiB): what the consumer retains once
 * its garbage is gone. Undefined when the process was started without `--expose-gc`.
 */
function liveHeapMb(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

/**
 * Runs one consumer contender in this process: sets it up, reports ready,
 * waits for `go`, measures, stops it and returns what it measured.
 */
export async function runConsumer(job: ConsumerJob): Promise<RunResult> {
  const rss = job.mode === 'memory' ? new RssSampler(50) : undefined;
  const probe = new Probe(job.mode === 'latency' ? job.count : 0);
  const monitor = connect(job.port);
  const consumer = await createConsumer(job, probe, monitor);
  const isPubSub = familyOf(job.contender) === 'nest-redis';
  const stopPublishing = isPubSub ? publishCount(monitor, KEYS.handled, () => probe.count) : () => Promise.resolve();
  await tell({ type: 'ready' });
  await waitForGo();
  const rssBaselineMb = rss?.reset();
  const profiler = job.profilePath === undefined ? undefined : await startWindowProfiler(job.profilePath);
  const cpuAtStart = process.cpuUsage();
  const t0 = performance.now();
  await consumer.start();
  const startupMs = performance.now() - t0;
  let result: RunResult;
  if (job.mode === 'idle') {
    result = await idle(job, monitor, startupMs);
  } else if (job.mode === 'steady') {
    result = await steady(job, probe, monitor, t0);
  } else if (job.mode === 'latency') {
    const reached = await probe.whenCount(job.count, job.durationMs + 5_000);
    const elapsedMs = performance.now() - t0;
    const latency = probe.latency();
    result = {
      messages: probe.count,
      elapsedMs,
      rate: (probe.count * 1000) / elapsedMs,
      timedOut: reached === undefined,
      lost: isPubSub ? Math.max(0, job.count - probe.count) : undefined,
      ...(latency === undefined ? {} : { latency }),
    };
  } else {
    const { end, timedOut, unsettled, lost } = await drain(job, probe, consumer, monitor, t0);
    const cpu = process.cpuUsage(cpuAtStart);
    const heapLiveMb = rss === undefined ? undefined : liveHeapMb();
    const elapsedMs = end - t0;
    result = {
      messages: probe.count,
      elapsedMs,
      rate: (probe.count * 1000) / elapsedMs,
      timedOut,
      unsettled,
      cpuUsPerMessage: probe.count === 0 ? undefined : (cpu.user + cpu.system) / probe.count,
      ...(lost === undefined ? {} : { lost }),
      ...(rss === undefined ? {} : { rssBaselineMb, rssPeakMb: rss.peakMb, heapPeakMb: rss.heapPeakMb, heapLiveMb }),
    };
  }
  await profiler?.stop();
  rss?.stop();
  await stopPublishing();
  await Promise.race([consumer.stop(), sleep(10_000)]);
  monitor.disconnect();
  return result;
}
