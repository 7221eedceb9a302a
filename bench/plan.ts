import { CONTENDERS, type ConsumerName, type Contender, type ProducerName, type RpcName, type ScenarioId } from './contenders.js';

/** Sizes and repetitions of one benchmark run. */
export interface Settings {
  readonly quick: boolean;
  /** Rounds; every contender runs once per round, in the same order (ABAB…). */
  readonly rounds: number;
  readonly drainCount: number;
  readonly steadyMs: number;
  readonly latencyMs: number;
  readonly latencyRate: number;
  readonly memoryCounts: readonly number[];
  readonly emitCount: number;
  /** Backlog of the streams scenario's drains (in one stream, or spread over many). */
  readonly streamsDrainCount: number;
  /** Backlog of the broadcast scenario's drains (one group reader, or each broadcast instance). */
  readonly broadcastCount: number;
  /** Window of the streams scenario's idle runs. */
  readonly idleMs: number;
  /** Window of each request-reply run. */
  readonly rpcMs: number;
  /** Request-reply latency: time at the rate before the measured window (RpcJob.settleMs). */
  readonly rpcSettleMs: number;
  /** Requests in flight in the request-reply throughput runs. */
  readonly rpcInFlight: number;
  /** Requests per second in the request-reply latency runs. */
  readonly rpcRate: number;
  /** Longest a drain may take before the child reports what it has handled. */
  readonly drainCapMs: number;
  /** Runs that would start after this much time are skipped (and reported as skipped). */
  readonly budgetMs: number;
}

/**
 * Settings for `--quick` (CI: under a minute) and for the full run, with
 * `rounds` instead of the default (1 quick, 3 full); the time budget grows with it.
 */
export function settingsFor(quick: boolean, rounds?: number): Settings {
  const base = baseSettings(quick);
  if (rounds === undefined) return base;
  return { ...base, rounds, budgetMs: Math.round((base.budgetMs * rounds) / base.rounds) };
}

function baseSettings(quick: boolean): Settings {
  if (quick) {
    return {
      quick,
      rounds: 1,
      drainCount: 20_000,
      steadyMs: 1_000,
      latencyMs: 1_000,
      latencyRate: 5_000,
      memoryCounts: [20_000, 50_000],
      emitCount: 20_000,
      streamsDrainCount: 20_000,
      broadcastCount: 20_000,
      idleMs: 3_000,
      rpcMs: 1_000,
      rpcSettleMs: 1_000,
      rpcInFlight: 100,
      rpcRate: 1_000,
      drainCapMs: 1_000,
      budgetMs: 50_000,
    };
  }
  return {
    quick,
    rounds: 3,
    drainCount: 500_000,
    steadyMs: 8_000,
    latencyMs: 8_000,
    latencyRate: 5_000,
    memoryCounts: [100_000, 1_000_000],
    emitCount: 200_000,
    streamsDrainCount: 200_000,
    broadcastCount: 200_000,
    idleMs: 65_000,
    rpcMs: 5_000,
    rpcSettleMs: 3_000,
    rpcInFlight: 100,
    rpcRate: 1_000,
    drainCapMs: 25_000,
    budgetMs: 40 * 60_000,
  };
}

/** The rows of bench/contenders.ts that run in scenario `id`, in table order. */
function rowsOf(id: ScenarioId): readonly Contender[] {
  const rows: readonly Contender[] = CONTENDERS;
  return rows.filter((c) => c.scenarios.includes(id));
}

/**
 * Contenders of a consumer scenario (bench/contenders.ts). `--quick` runs
 * every contender in the drain and, to stay under a minute, one per family
 * (`representsFamily`) in the others.
 */
export function contendersOf(id: Exclude<ScenarioId, 'emit' | 'rpc'>, quick: boolean): readonly ConsumerName[] {
  const rows = rowsOf(id).filter((c) => !quick || id === 'drain' || id === 'streams' || id === 'broadcast' || c.representsFamily === true);
  return rows.map((c) => c.name as ConsumerName);
}

/** Contenders of the producer scenario (bench/contenders.ts). */
export const EMIT_CONTENDERS: readonly ProducerName[] = rowsOf('emit').map((c) => c.name as ProducerName);

/** Contenders of the request-reply scenario (bench/contenders.ts). */
export const RPC_CONTENDERS: readonly RpcName[] = rowsOf('rpc').map((c) => c.name as RpcName);

/** Human label of a backlog size: 20k, 1M. */
export function sizeLabel(count: number): string {
  return count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1_000}k`;
}
