/**
 * `npm run bench [-- --quick] [-- --only drain,latency] [-- --contenders a,b] [-- --profile]`
 *
 * Starts a throwaway redis-server, runs every contender in a fresh child
 * process, round by round, and prints markdown tables of medians and ratios.
 * The full run also writes bench/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../sample/local-redis.js';
import { killAllChildren } from './child.js';
import { describeEnvironment } from './environment.js';
import { payloadBytes } from './payload.js';
import { EMIT_CONTENDERS, SCENARIO_CONTENDERS, settingsFor, sizeLabel, type ScenarioId, type Settings } from './plan.js';
import { learnTemplate } from './prefill.js';
import type { RunResult } from './protocol.js';
import { allTables, type BenchResults } from './report.js';
import { resultsMarkdown } from './results-file.js';
import { runDrain, runEmit, runLatency, runMemory, runSteady, type BenchContext } from './scenarios.js';
import { int } from './stats.js';
import { targetsSection } from './targets.js';

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<ScenarioId> | undefined;
  readonly contenders: ReadonlySet<string> | undefined;
  readonly profile: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const list = (flag: string): Set<string> | undefined => {
    const v = value(flag);
    return v === undefined ? undefined : new Set(v.split(',').filter(Boolean));
  };
  return {
    quick: argv.includes('--quick'),
    only: list('--only') as Set<ScenarioId> | undefined,
    contenders: list('--contenders'),
    profile: argv.includes('--profile'),
  };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

type Task = { readonly label: string; readonly run: () => Promise<RunResult> };

/** Runs the tasks round by round, in the same order every round (ABAB…), collecting each contender's results. */
async function rounds(
  scenario: string,
  settings: Settings,
  contenders: readonly string[],
  task: (contender: string) => Task,
  failures: string[],
): Promise<Map<string, Array<RunResult | undefined>>> {
  const runs = new Map<string, Array<RunResult | undefined>>(contenders.map((c) => [c, []]));
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const contender of contenders) {
      const { label, run } = task(contender);
      const started = Date.now();
      try {
        const result = await run();
        runs.get(contender)!.push(result);
        log(`[${scenario} ${round}/${settings.rounds}] ${label}: ${int(result.rate)} msgs/s (${int(result.messages)} in ${(result.elapsedMs / 1000).toFixed(1)} s${result.timedOut ? ', capped' : ''})`);
      } catch (error) {
        runs.get(contender)!.push(undefined);
        const reason = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3).join(' ');
        failures.push(`${scenario} round ${round} ${label}: ${reason}`);
        log(`[${scenario} ${round}/${settings.rounds}] ${label}: FAILED after ${Date.now() - started} ms: ${reason}`);
      }
    }
  }
  return runs;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const settings = settingsFor(args.quick);
  const began = Date.now();
  const wanted = (id: ScenarioId): boolean => args.only === undefined || args.only.has(id);
  const pick = <T extends string>(list: readonly T[]): T[] => list.filter((c) => args.contenders === undefined || args.contenders.has(c));
  let server: LocalRedis | undefined;
  let redis: Redis | undefined;
  const stop = async (): Promise<void> => {
    killAllChildren();
    redis?.disconnect();
    await server?.stop();
  };
  const onSignal = (): void => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    server = await startLocalRedis();
    redis = new Redis({ host: '127.0.0.1', port: server.port });
    const template = await learnTemplate(redis, server.port);
    log(`redis-server pid ${server.pid} on 127.0.0.1:${server.port}; payload ${payloadBytes()} bytes of JSON; ${args.quick ? 'quick' : 'full'} mode, ${settings.rounds} round(s)`);
    const ctx: BenchContext = {
      redis, port: server.port, template, settings,
      consumerNodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./profiles', import.meta.url))}`] : [],
    };
    const failures: string[] = [];
    const empty = new Map<string, Array<RunResult | undefined>>();
    const consumerRounds = (id: 'drain' | 'steady' | 'latency', fn: typeof runDrain) =>
      wanted(id) ? rounds(id, settings, pick(SCENARIO_CONTENDERS[id]), (c) => ({ label: c, run: () => fn(ctx, c as never) }), failures) : empty;
    const drain = await consumerRounds('drain', runDrain);
    const steady = await consumerRounds('steady', runSteady);
    const latency = await consumerRounds('latency', runLatency);
    const memory = new Map<number, Map<string, Array<RunResult | undefined>>>();
    if (wanted('memory')) {
      for (const size of settings.memoryCounts) {
        const contenders = pick(SCENARIO_CONTENDERS.memory);
        memory.set(size, await rounds(`memory ${sizeLabel(size)}`, settings, contenders, (c) => ({ label: c, run: () => runMemory(ctx, c as never, size) }), failures));
      }
    }
    const emit = wanted('emit') ? await rounds('emit', settings, pick(EMIT_CONTENDERS), (c) => ({ label: c, run: () => runEmit(ctx, c as never) }), failures) : empty;
    const results: BenchResults = { drain, steady, latency, memory, emit, failures };
    const minutes = (Date.now() - began) / 60_000;
    process.stdout.write(`${allTables(results, settings)}\n\n### Targets\n\n${targetsSection(results)}\n`);
    const markdown = resultsMarkdown(results, settings, describeEnvironment(), process.argv.slice(2), minutes);
    if (!args.quick && args.only === undefined && args.contenders === undefined && !args.profile) {
      const path = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
      writeFileSync(path, markdown);
      log(`wrote ${path}`);
    }
    log(`done in ${minutes.toFixed(1)} min${failures.length > 0 ? `, ${failures.length} failed run(s)` : ''}`);
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
