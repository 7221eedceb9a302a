import type { RunResult } from './protocol.js';
import type { BenchResults } from './report.js';
import { num, ratio, spread, times, type Runs } from './stats.js';

const rate = (r: RunResult): number => r.rate;
const p99 = (r: RunResult): number | undefined => r.latency?.p99;

interface Check {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** Three decimals, so that a ratio just under a target never reads as the target itself. */
function precise(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(3)}×`;
}

function atLeast(target: string, value: number | undefined, min: number): Check {
  return { target, measured: precise(value), met: value === undefined ? undefined : value >= min };
}

function atMost(target: string, value: number | undefined, max: number): Check {
  return { target, measured: precise(value), met: value === undefined ? undefined : value <= max };
}

/**
 * The "≥ the simple raw loop wherever NestJS' own cost allows": at
 * least 1× raw-simple, or, where the Nest ceiling itself is below raw-simple
 * (NestJS' cost), at least what the ceiling reaches.
 */
function rawLoopCheck(scenario: string, runs: Runs, ours: string): Check {
  const value = ratio(runs, ours, 'raw-simple', rate);
  const ceiling = ratio(runs, 'nest-ceiling', 'raw-simple', rate);
  const bound = Math.min(1, ceiling ?? 1);
  const target = `${scenario}: ${ours} ≥ 1× raw-simple where NestJS' cost allows (≥ min(1, nest-ceiling × raw-simple))`;
  return {
    target,
    measured: `${precise(value)} (nest-ceiling ${precise(ceiling)})`,
    met: value === undefined ? undefined : value >= bound,
  };
}

/**
 * ≥ 5× BullMQ at the same concurrency, next to what hand-written loops that
 * hold as many entries reach: holding at most N entries means a round trip per
 * N entries, whoever reads, so such a loop bounds every consumer of that
 * concurrency (at 200: a batch of 100 handled while the next 100 are read), and
 * the same loop calling the real Nest handler bounds every NestJS transport.
 */
function matchedConcurrencyCheck(drain: Runs, ours: string, bull: string, loops: readonly string[]): Check {
  const check = atLeast(`drain: ${ours} ≥ 5× ${bull} (same concurrency)`, ratio(drain, ours, bull, rate), 5);
  const bounds = loops
    .map((loop) => ({ loop, times: ratio(drain, loop, bull, rate) }))
    .filter((b): b is { loop: string; times: number } => b.times !== undefined);
  if (bounds.length === 0) return check;
  const shown = bounds.map((b) => `${b.loop}: ${precise(b.times)} ${bull}`).join(', ');
  const ourShare = bounds.map((b) => `${precise(ratio(drain, ours, b.loop, rate))} ${b.loop}`).join(', ');
  return { ...check, measured: `${check.measured} (hand-written ${shown}; ours = ${ourShare})` };
}

/** Microseconds NestJS adds per message: Nest ceiling against the same raw loop without Nest. */
export function nestCostUs(drain: Runs): number | undefined {
  const nest = spread(drain, 'nest-ceiling', rate)?.median;
  const raw = spread(drain, 'raw-pipelined', rate)?.median;
  if (nest === undefined || raw === undefined) return undefined;
  return 1e6 / nest - 1e6 / raw;
}

/** Largest backlog's median of `metric` over the smallest's. */
function memoryGrowth(
  memory: ReadonlyMap<number, Runs>,
  contender: string,
  metric: (r: RunResult) => number | undefined,
): number | undefined {
  const sizes = [...memory.keys()].sort((a, b) => a - b);
  const small = sizes[0];
  const large = sizes[sizes.length - 1];
  if (small === undefined || large === undefined || small === large) return undefined;
  const a = spread(memory.get(small)!, contender, metric)?.median;
  const b = spread(memory.get(large)!, contender, metric)?.median;
  return a === undefined || b === undefined ? undefined : b / a;
}

/** Peak RSS growth, with what the process still holds after full GCs next to it (retention, not garbage). */
function memoryCheck(memory: ReadonlyMap<number, Runs>, contender: string): Check {
  const check = atMost(
    `memory: ${contender} peak RSS, largest vs smallest backlog ≤ 1.2×`,
    memoryGrowth(memory, contender, (r) => r.rssPeakMb),
    1.2,
  );
  const retained = memoryGrowth(memory, contender, (r) => r.heapLiveMb);
  return retained === undefined ? check : { ...check, measured: `${check.measured} (V8 heap in use after full GC: ${precise(retained)})` };
}

/** A measured median against an upper bound, shown with its unit. */
function below(target: string, runs: Runs, c: string, metric: (r: RunResult) => number | undefined, max: number, unit: string): Check {
  const value = spread(runs, c, metric)?.median;
  return { target, measured: value === undefined ? '–' : `${num(value)}${unit}`, met: value === undefined ? undefined : value < max };
}

/** Issue 12, many streams on few connections: connections, start-up, idle cost, and a drain spread over 100 streams. */
export function streamsChecks(streams: Runs): Check[] {
  const connections = (r: RunResult): number | undefined => r.connections;
  const startup = (r: RunResult): number | undefined => r.startupMs;
  return [
    below('streams: 100 streams, ≤ 3 connections per server', streams, 'streams-idle-100', connections, 3.5, ''),
    below('streams: 100 streams, start-up < 0.5 s', streams, 'streams-idle-100', startup, 500, ' ms'),
    below('streams: 100 idle streams, < 15 Redis commands/s', streams, 'streams-idle-100', (r) => r.idleCommandsPerS, 15, '/s'),
    below('streams: 100 idle streams, < 1% of a core', streams, 'streams-idle-100', (r) => r.idleCpuPercent, 1, '%'),
    below('streams: 1,000 streams, ≤ 3 connections per server', streams, 'streams-idle-1000', connections, 3.5, ''),
    below('streams: 1,000 streams, start-up < 1 s', streams, 'streams-idle-1000', startup, 1_000, ' ms'),
    atLeast(
      'streams: drain spread over 100 streams ≥ 0.9× the same backlog in one stream',
      ratio(streams, 'streams-drain-100', 'streams-drain-1', rate),
      0.9,
    ),
  ];
}

/** Issue 13, broadcast: three instances each receive every entry at ≥ 0.9× the rate of one consumer-group reader. */
export function broadcastChecks(broadcast: Runs): Check[] {
  return [
    atLeast(
      'broadcast: each of 3 instances ≥ 0.9× one consumer-group reader (slowest instance)',
      ratio(broadcast, 'broadcast-x3', 'broadcast-group', rate),
      0.9,
    ),
  ];
}

/** Issue 14, request-reply: against NestJS' own Redis transport on the same Redis, in the same run. */
export function rpcChecks(throughput: Runs, latency: Runs): Check[] {
  const p50 = (r: RunResult): number | undefined => r.latency?.p50;
  return [
    atLeast('rpc: rpc-ours ≥ 1.0× rpc-nest-redis round trips/s (100 in flight)', ratio(throughput, 'rpc-ours', 'rpc-nest-redis', rate), 1),
    atMost('rpc: rpc-ours p50 ≤ 1.5× rpc-nest-redis (1,000 requests/s)', ratio(latency, 'rpc-ours', 'rpc-nest-redis', p50), 1.5),
    atMost('rpc: rpc-ours p99 ≤ 1.5× rpc-nest-redis (1,000 requests/s)', ratio(latency, 'rpc-ours', 'rpc-nest-redis', p99), 1.5),
  ];
}

/** The targets, each with the measured ratio (medians of per-round ratios). */
export function targetChecks(results: BenchResults): Check[] {
  const { drain, steady, latency, memory, emit } = results;
  const checks: Check[] = [];
  for (const ours of ['ours-default', 'ours-tuned']) {
    checks.push(atLeast(`drain: ${ours} ≥ 0.9× nest-ceiling`, ratio(drain, ours, 'nest-ceiling', rate), 0.9));
    checks.push(rawLoopCheck('drain', drain, ours));
    checks.push(atLeast(`steady: ${ours} ≥ 0.9× nest-ceiling`, ratio(steady, ours, 'nest-ceiling', rate), 0.9));
    checks.push(rawLoopCheck('steady', steady, ours));
  }
  checks.push(matchedConcurrencyCheck(drain, 'ours-c1', 'bullmq-c1', ['raw-c1']));
  checks.push(matchedConcurrencyCheck(drain, 'ours-c10', 'bullmq-c10', ['raw-c10']));
  checks.push(matchedConcurrencyCheck(drain, 'ours-c100', 'bullmq-c100', ['raw-c100', 'nest-c100']));
  checks.push(matchedConcurrencyCheck(drain, 'ours-default', 'bullmq-c200', ['raw-pipelined', 'nest-ceiling']));
  for (const [ours, bull] of [
    ['ours-c100', 'bullmq-c100'],
    ['ours-default', 'bullmq-c200'],
  ] as const) {
    checks.push(atLeast(`steady: ${ours} ≥ 5× ${bull}`, ratio(steady, ours, bull, rate), 5));
  }
  checks.push(atLeast('drain: ours-default ≥ 1.5× nest-redis events/s', ratio(drain, 'ours-default', 'nest-redis', rate), 1.5));
  checks.push(atLeast('steady: ours-default ≥ 1.5× nest-redis events/s', ratio(steady, 'ours-default', 'nest-redis', rate), 1.5));
  for (const ours of ['ours-default', 'ours-tuned']) {
    checks.push(atMost(`latency: ${ours} p99 ≤ 1.5× raw-simple`, ratio(latency, ours, 'raw-simple', p99), 1.5));
  }
  for (const c of ['ours-default', 'raw-simple']) {
    checks.push(memoryCheck(memory, c));
  }
  checks.push(atLeast('producer: emit-ours ≥ 0.8× xadd-raw', ratio(emit, 'emit-ours', 'xadd-raw', rate), 0.8));
  checks.push(...streamsChecks(results.streams));
  checks.push(...broadcastChecks(results.broadcast));
  // Issue 13: a list queue at defaults against our stream drain and BullMQ at the same concurrency.
  checks.push(atLeast('drain: list-default ≥ 0.8× ours-default (issue 13)', ratio(drain, 'list-default', 'ours-default', rate), 0.8));
  checks.push(atLeast('drain: list-default ≥ 5× bullmq-c200 (issue 13)', ratio(drain, 'list-default', 'bullmq-c200', rate), 5));
  checks.push(...rpcChecks(results.rpcThroughput, results.rpcLatency));
  for (const [ours, raw, nest] of [
    ['ours-c1', 'raw-c1', 'nest-c1'],
    ['ours-c10', 'raw-c10', 'nest-c10'],
  ] as const) {
    // The hand-written loop calls a plain function; the same loop calling the
    // real Nest handler says how much of the gap is NestJS' own dispatch.
    const check = atLeast(
      `drain: ${ours} ≥ 0.95× ${raw} (issue 12: as fast as the hand-written loop holding as many entries)`,
      ratio(drain, ours, raw, rate),
      0.95,
    );
    const bound = nest === undefined ? undefined : ratio(drain, nest, raw, rate);
    checks.push(bound === undefined ? check : { ...check, measured: `${check.measured} (${nest}: ${precise(bound)} ${raw})` });
  }
  return checks;
}

/** The targets as a markdown table, plus the measured NestJS per-message cost. */
export function targetsSection(results: BenchResults): string {
  const rows = targetChecks(results).map(
    (c) => `| ${c.target} | ${c.measured} | ${c.met === undefined ? 'not measured' : c.met ? 'yes' : '**no**'} |`,
  );
  const cost = nestCostUs(results.drain);
  const nest = ratio(results.drain, 'nest-ceiling', 'raw-pipelined', rate);
  return [
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...rows,
    '',
    `NestJS' own cost (drain, nest-ceiling vs raw-pipelined, the same loop without Nest): ` +
      `${num(cost)} µs per message; the Nest ceiling runs at ${times(nest)} the raw loop.`,
  ].join('\n');
}
