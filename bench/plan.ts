import type { ConsumerName, ProducerName } from './protocol.js';

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
  /** Options of `ours-tuned`. */
  readonly tuned: { readonly batchSize: number; readonly concurrency: number };
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
  const tuned = { batchSize: 250, concurrency: 500 };
  if (quick) {
    return {
      quick, rounds: 1, drainCount: 20_000, steadyMs: 1_000, latencyMs: 1_000, latencyRate: 5_000,
      memoryCounts: [20_000, 50_000], emitCount: 20_000, tuned, drainCapMs: 1_000, budgetMs: 50_000,
    };
  }
  return {
    quick, rounds: 3, drainCount: 500_000, steadyMs: 8_000, latencyMs: 8_000, latencyRate: 5_000,
    memoryCounts: [100_000, 1_000_000], emitCount: 200_000, tuned, drainCapMs: 25_000, budgetMs: 40 * 60_000,
  };
}

/** Scenario identifiers, in the order they run. */
export type ScenarioId = 'drain' | 'steady' | 'latency' | 'memory' | 'emit';

/** Contenders of each consumer scenario. */
export const SCENARIO_CONTENDERS: Readonly<Record<Exclude<ScenarioId, 'emit'>, readonly ConsumerName[]>> = {
  drain: [
    'raw-simple', 'raw-pipelined', 'nest-ceiling', 'ours-default', 'ours-tuned', 'ours-c100', 'ours-c10', 'ours-c1',
    'raw-c100', 'nest-c100', 'raw-c10', 'raw-c1', 'bullmq-c1', 'bullmq-c10', 'bullmq-c100', 'bullmq-c200', 'nest-redis',
  ],
  steady: ['raw-simple', 'raw-pipelined', 'nest-ceiling', 'ours-default', 'ours-tuned', 'ours-c100', 'bullmq-c100', 'bullmq-c200', 'nest-redis'],
  latency: ['raw-simple', 'raw-pipelined', 'nest-ceiling', 'ours-default', 'ours-tuned', 'bullmq-c100', 'nest-redis'],
  memory: ['raw-simple', 'nest-ceiling', 'ours-default'],
};

/**
 * Contenders of a scenario. `--quick` runs every contender in the drain and,
 * to stay under a minute, one per producer family in the others.
 */
export function contendersOf(id: Exclude<ScenarioId, 'emit'>, quick: boolean): readonly ConsumerName[] {
  if (!quick || id === 'drain') return SCENARIO_CONTENDERS[id];
  const perFamily: readonly ConsumerName[] = ['raw-simple', 'ours-default', 'bullmq-c100', 'nest-redis'];
  return SCENARIO_CONTENDERS[id].filter((c) => perFamily.includes(c));
}

/** Contenders of the producer scenario. */
export const EMIT_CONTENDERS: readonly ProducerName[] = ['xadd-raw', 'emit-ours'];

/** Human label of a backlog size: 20k, 1M. */
export function sizeLabel(count: number): string {
  return count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1_000}k`;
}
