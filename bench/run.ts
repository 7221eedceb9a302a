/**
 * `npm run bench [-- --quick] [--only drain,latency,streams,broadcast,rpc] [--contenders a,b] [--rounds n] [--profile]`
 *
 * Starts a throwaway redis-server, runs every contender (one row each in
 * bench/contenders.ts) in a fresh child process, round by round, and prints
 * markdown tables of medians and ratios.
 * The full run (no options) also writes bench/RESULTS.md. `--profile` writes a
 * CPU profile of every consumer's measured window to build/bench/profiles
 * (summarize one with `node build/bench/profile-top.js <file>`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../test/support/local-redis.js';
import { killAllChildren, snapshotCode } from './child.js';
import type { ScenarioId } from './contenders.js';
import { describeEnvironment, measureRoundTripUs, sampleLoad } from './environment.js';
import { payloadBytes } from './payload.js';
import { EMIT_CONTENDERS, RPC_CONTENDERS, contendersOf, settingsFor, sizeLabel } from './plan.js';
import { learnTemplate } from './prefill.js';
import { allTables, contendersIn, contendersTable, type BenchResults } from './report.js';
import { resultsMarkdown } from './results-file.js';
import { log, newJournal, rounds } from './rounds.js';
import { runBroadcast, runDrain, runEmit, runLatency, runMemory, runRpc, runSteady, runStreams, type BenchContext } from './scenarios.js';
import type { Runs } from './stats.js';
import { targetsSection } from './targets.js';

const SCENARIOS: readonly ScenarioId[] = ['drain', 'steady', 'latency', 'memory', 'emit', 'streams', 'broadcast', 'rpc'];

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<ScenarioId> | undefined;
  readonly contenders: ReadonlySet<string> | undefined;
  readonly profile: boolean;
  readonly rounds: number | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const list = (flag: string): string[] | undefined => {
    const i = argv.indexOf(flag);
    const value = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
    return value?.split(',').filter(Boolean);
  };
  const only = list('--only');
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s === id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; use ${SCENARIOS.join(', ')}`);
  const contenders = list('--contenders');
  const roundsArg = list('--rounds')?.[0];
  const rounds = roundsArg === undefined ? undefined : Number(roundsArg);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw new Error(`--rounds: expected a whole number of rounds ≥ 1, got "${roundsArg}"`);
  }
  return {
    quick: argv.includes('--quick'),
    only: only === undefined ? undefined : new Set(SCENARIOS.filter((s) => only.includes(s))),
    contenders: contenders === undefined ? undefined : new Set(contenders),
    profile: argv.includes('--profile'),
    rounds,
  };
}

/** Runs the scenarios the arguments ask for, in order, and returns everything measured. */
async function measure(ctx: BenchContext, args: Args): Promise<BenchResults> {
  const { settings } = ctx;
  const journal = newJournal();
  const wanted = (id: ScenarioId): boolean => args.only === undefined || args.only.has(id);
  const pick = <T extends string>(list: readonly T[]): T[] => list.filter((c) => args.contenders?.has(c) ?? true);
  const none: Runs = new Map();
  const consumers = (id: 'drain' | 'steady' | 'latency' | 'streams' | 'broadcast', fn: typeof runDrain): Promise<Runs> =>
    wanted(id) ? rounds(id, settings, pick(contendersOf(id, settings.quick)), (c) => fn(ctx, c), journal) : Promise.resolve(none);
  const drain = await consumers('drain', runDrain);
  const steady = await consumers('steady', runSteady);
  const latency = await consumers('latency', runLatency);
  const memory = new Map<number, Runs>();
  for (const size of wanted('memory') ? settings.memoryCounts : []) {
    const contenders = pick(contendersOf('memory', settings.quick));
    memory.set(size, await rounds(`memory ${sizeLabel(size)}`, settings, contenders, (c) => runMemory(ctx, c, size), journal));
  }
  const emit = wanted('emit') ? await rounds('emit', settings, pick(EMIT_CONTENDERS), (c) => runEmit(ctx, c), journal) : none;
  const streams = await consumers('streams', runStreams);
  const broadcast = await consumers('broadcast', runBroadcast);
  const rpc = (mode: 'throughput' | 'latency'): Promise<Runs> =>
    wanted('rpc') ? rounds(`rpc ${mode}`, settings, pick(RPC_CONTENDERS), (c) => runRpc(ctx, c, mode), journal) : Promise.resolve(none);
  const rpcThroughput = await rpc('throughput');
  const rpcLatency = await rpc('latency');
  const { failures, skipped, wallSeconds } = journal;
  return { drain, steady, latency, memory, emit, streams, broadcast, rpcThroughput, rpcLatency, failures, skipped, wallSeconds };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const settings = settingsFor(args.quick, args.rounds);
  const began = Date.now();
  const load = sampleLoad();
  // Read at the start: the code and versions measured, not whatever is there at the end.
  const env = describeEnvironment();
  let server: LocalRedis | undefined;
  let redis: Redis | undefined;
  const removeSnapshot = snapshotCode();
  const stop = async (): Promise<void> => {
    killAllChildren();
    redis?.disconnect();
    await server?.stop();
    removeSnapshot();
  };
  const onSignal = (): void => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    server = await startLocalRedis();
    redis = new Redis({ host: '127.0.0.1', port: server.port });
    const template = await learnTemplate(redis, server.port);
    log(
      `redis-server pid ${server.pid} on 127.0.0.1:${server.port}; payload ${payloadBytes()} bytes of JSON; ${args.quick ? 'quick' : 'full'} mode, ${settings.rounds} round(s)`,
    );
    const profileDir = args.profile ? fileURLToPath(new URL('./profiles', import.meta.url)) : undefined;
    if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
    const roundTripUs = await measureRoundTripUs(redis);
    log(`round trip to Redis: ${roundTripUs.toFixed(0)} µs (median awaited PING)`);
    const results = { ...(await measure({ redis, port: server.port, template, settings, profileDir }, args)), roundTripUs };
    const minutes = (Date.now() - began) / 60_000;
    const note = settings.quick ? ' (quick mode: small counts, one run each; indicative only)' : '';
    const contenders = `### Contenders (bench/contenders.ts)\n\n${contendersTable(contendersIn(results))}`;
    process.stdout.write(`${contenders}\n\n${allTables(results, settings)}\n\n### Targets${note}\n\n${targetsSection(results)}\n`);
    if (!args.quick && args.only === undefined && args.contenders === undefined && !args.profile) {
      const path = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
      writeFileSync(path, resultsMarkdown(results, settings, env, load.stop(), process.argv.slice(2), minutes));
      log(`wrote ${path}`);
    }
    const { failures, skipped } = results;
    log(
      `done in ${minutes.toFixed(1)} min${failures.length > 0 ? `, ${failures.length} failed run(s)` : ''}${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`,
    );
    // A crashed contender fails the run (so the benchmark cannot rot); slow numbers never do.
    return failures.length > 0 ? 1 : 0;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    killAllChildren();
    process.exit(1);
  },
);
