import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startChild, type ChildRun } from './child.js';
import { contender as rowOf, familyOf, instancesOf, streamsOf, type ConsumerName, type ProducerName, type RpcName } from './contenders.js';
import type { Settings } from './plan.js';
import { prefillList, prefillQueue, prefillStream, prefillStreams, resetStream } from './prefill.js';
import type { ConsumerJob, ConsumerMode, EmitJob, EntryTemplate, ProducerJob, RpcJob, RunResult } from './protocol.js';

/** What every scenario run needs from the orchestrator. */
export interface BenchContext {
  readonly redis: Redis;
  readonly port: number;
  readonly template: EntryTemplate;
  readonly settings: Settings;
  /** When set (`--profile`), consumers and emit producers write a CPU profile of their measured window here. */
  readonly profileDir: string | undefined;
}

/** Slack on top of a child's own cap before the parent kills it. */
const KILL_SLACK_MS = 30_000;
/** Producer batches in `max` mode never exceed this rate, so memory stays bounded. */
const MAX_PRODUCER_RATE = 400_000;

/** Where a child writes the CPU profile of its measured window, when profiling. */
function profilePath(ctx: BenchContext, contender: string, mode: string): string | undefined {
  if (ctx.profileDir === undefined) return undefined;
  return join(ctx.profileDir, `${contender}-${mode}-${Date.now()}.cpuprofile`);
}

function consumerJob(
  ctx: BenchContext,
  contender: ConsumerName,
  mode: ConsumerMode,
  count: number,
  durationMs: number,
  capMs: number,
  instance?: number,
): ConsumerJob {
  const profile = profilePath(ctx, contender, instance === undefined ? mode : `${mode}-${instance}`);
  return {
    kind: 'consumer',
    contender,
    mode,
    port: ctx.port,
    count,
    durationMs,
    capMs,
    template: ctx.template,
    ...(profile === undefined ? {} : { profilePath: profile }),
    ...(instance === undefined ? {} : { instance }),
  };
}

function producerJob(
  ctx: BenchContext,
  contender: ConsumerName,
  mode: ProducerJob['mode'],
  count: number,
  durationMs: number,
): ProducerJob {
  return {
    kind: 'producer',
    family: familyOf(contender),
    mode,
    port: ctx.port,
    count,
    durationMs,
    rate: ctx.settings.latencyRate,
    template: ctx.template,
  };
}

/** Empties Redis and prepares what the contender reads from: a pre-filled backlog of `count` (0: empty). */
async function prepare(ctx: BenchContext, contender: ConsumerName, count: number): Promise<void> {
  const family = familyOf(contender);
  if (family === 'bullmq') await prefillQueue(ctx.redis, ctx.port, count);
  else if (family === 'stream') await prefillStream(ctx.redis, ctx.template, count);
  else if (family === 'list') await prefillList(ctx.redis, count);
  else await resetStream(ctx.redis);
}

/**
 * Waits until the consumers, the producer (if any) and the data (`prepared`)
 * are ready, lets all children go together and returns the consumers' results.
 * Children only connect while setting up (nothing is read before `go`), so
 * Redis is prepared while they boot.
 */
async function togetherAll(
  consumers: readonly ChildRun[],
  producer: ChildRun | undefined,
  prepared: Promise<void> = Promise.resolve(),
): Promise<RunResult[]> {
  const children = [...consumers, ...(producer === undefined ? [] : [producer])];
  try {
    await prepared;
    for (const child of children) await child.ready;
    for (const child of children) child.go();
    const results = await Promise.all(consumers.map((consumer) => consumer.result));
    await producer?.result;
    return results;
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  } finally {
    // The next run starts only once these processes are gone.
    await Promise.allSettled(children.flatMap((child) => [child.result, child.exited]));
  }
}

/** {@link togetherAll} for one consumer. */
async function together(consumer: ChildRun, producer: ChildRun | undefined, prepared?: Promise<void>): Promise<RunResult> {
  const [result] = await togetherAll([consumer], producer, prepared);
  return result!;
}

/** (a) Drain a pre-filled backlog; pub/sub has no backlog, so it gets a burst from a ClientProxy producer. */
export async function runDrain(ctx: BenchContext, contender: ConsumerName): Promise<RunResult> {
  const { drainCount, drainCapMs } = ctx.settings;
  const consumer = startChild(consumerJob(ctx, contender, 'drain', drainCount, 0, drainCapMs), drainCapMs + KILL_SLACK_MS);
  const isPubSub = familyOf(contender) === 'nest-redis';
  const producer = isPubSub
    ? startChild(producerJob(ctx, contender, 'burst', drainCount, drainCapMs), drainCapMs + KILL_SLACK_MS)
    : undefined;
  return together(consumer, producer, prepare(ctx, contender, isPubSub ? 0 : drainCount));
}

/** (b) Steady state: a producer writes as fast as it can for the whole window. */
export async function runSteady(ctx: BenchContext, contender: ConsumerName): Promise<RunResult> {
  const { steadyMs } = ctx.settings;
  await prepare(ctx, contender, 0);
  const consumer = startChild(consumerJob(ctx, contender, 'steady', 0, steadyMs, steadyMs), steadyMs + KILL_SLACK_MS);
  const cap = Math.ceil((MAX_PRODUCER_RATE * (steadyMs + 100)) / 1000);
  // The producer outlives the consumer's window by a little, so the window never sees it stop.
  const producer = startChild(producerJob(ctx, contender, 'max', cap, steadyMs + 100), steadyMs + KILL_SLACK_MS);
  return together(consumer, producer);
}

/** (c) Latency from XADD (or add / emit) to handler start at a fixed rate. */
export async function runLatency(ctx: BenchContext, contender: ConsumerName): Promise<RunResult> {
  const { latencyMs, latencyRate } = ctx.settings;
  const count = Math.round((latencyRate * latencyMs) / 1000);
  await prepare(ctx, contender, 0);
  const consumer = startChild(consumerJob(ctx, contender, 'latency', count, latencyMs, latencyMs), latencyMs + KILL_SLACK_MS);
  const producer = startChild(producerJob(ctx, contender, 'rate', count, latencyMs), latencyMs + KILL_SLACK_MS);
  return together(consumer, producer);
}

/** (d) Peak RSS of the consumer process while it drains a backlog of `count`. */
export async function runMemory(ctx: BenchContext, contender: ConsumerName, count: number): Promise<RunResult> {
  const capMs = Math.max(ctx.settings.drainCapMs, Math.ceil(count / 10));
  const consumer = startChild(consumerJob(ctx, contender, 'memory', count, 0, capMs), capMs + KILL_SLACK_MS);
  return together(consumer, undefined, prepare(ctx, contender, count));
}

/**
 * (f) Many streams: for ours-idle rows, start-up, connections and the idle
 * cost of a server bound to many empty streams (created by the server);
 * for the others, a drain of the same backlog spread over the row's streams.
 */
export async function runStreams(ctx: BenchContext, contender: ConsumerName): Promise<RunResult> {
  const { streamsDrainCount, drainCapMs, idleMs } = ctx.settings;
  if (rowOf(contender).kind === 'ours-idle') {
    await ctx.redis.flushall();
    const capMs = idleMs + 30_000;
    const consumer = startChild(consumerJob(ctx, contender, 'idle', 0, idleMs, capMs), capMs + KILL_SLACK_MS);
    return together(consumer, undefined);
  }
  const consumer = startChild(consumerJob(ctx, contender, 'drain', streamsDrainCount, 0, drainCapMs), drainCapMs + KILL_SLACK_MS);
  return together(consumer, undefined, prefillStreams(ctx.redis, ctx.template, streamsDrainCount, streamsOf(contender)));
}

/**
 * (g) Broadcast: the same backlog drained by one consumer-group reader, or
 * read in full by each of the row's broadcast instances (one process each,
 * started together). A broadcast row's rate is its slowest instance's: every
 * instance has received every entry by then.
 */
export async function runBroadcast(ctx: BenchContext, contender: ConsumerName): Promise<RunResult> {
  const { broadcastCount, drainCapMs } = ctx.settings;
  if (rowOf(contender).kind !== 'ours-broadcast') {
    const consumer = startChild(consumerJob(ctx, contender, 'drain', broadcastCount, 0, drainCapMs), drainCapMs + KILL_SLACK_MS);
    return together(consumer, undefined, prepare(ctx, contender, broadcastCount));
  }
  const instances = Array.from({ length: instancesOf(contender) }, (_, instance) =>
    startChild(consumerJob(ctx, contender, 'drain', broadcastCount, 0, drainCapMs, instance), drainCapMs + KILL_SLACK_MS),
  );
  const results = await togetherAll(instances, undefined, prepare(ctx, contender, broadcastCount));
  const slowest = results.reduce((a, b) => (b.rate < a.rate ? b : a));
  return {
    ...slowest,
    messages: Math.min(...results.map((r) => r.messages)),
    timedOut: results.some((r) => r.timedOut),
    instanceRates: results.map((r) => r.rate),
    // Each instance does the same work: their mean is the row's cost per entry and instance.
    cpuUsPerMessage: mean(results.map((r) => r.cpuUsPerMessage)),
  };
}

function mean(values: ReadonlyArray<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
}

/** (e) Producer throughput: our emit() against raw pipelined XADD. */
export async function runEmit(ctx: BenchContext, contender: ProducerName): Promise<RunResult> {
  await ctx.redis.flushall();
  const capMs = 60_000;
  const profile = profilePath(ctx, contender, 'emit');
  const job: EmitJob = {
    kind: 'emit',
    contender,
    port: ctx.port,
    count: ctx.settings.emitCount,
    capMs,
    template: ctx.template,
    ...(profile === undefined ? {} : { profilePath: profile }),
  };
  return together(startChild(job, capMs + KILL_SLACK_MS), undefined);
}

/** (h) Request-reply: round trips per second with requests in flight, or latency at a fixed rate (issue 14). */
export async function runRpc(ctx: BenchContext, contender: RpcName, mode: RpcJob['mode']): Promise<RunResult> {
  await ctx.redis.flushall();
  const { rpcMs, rpcInFlight, rpcRate, rpcSettleMs } = ctx.settings;
  const settleMs = mode === 'latency' ? rpcSettleMs : 0;
  const job: RpcJob = { kind: 'rpc', contender, mode, port: ctx.port, durationMs: rpcMs, inFlight: rpcInFlight, rate: rpcRate, settleMs };
  return together(startChild(job, rpcMs + settleMs + KILL_SLACK_MS), undefined);
}
