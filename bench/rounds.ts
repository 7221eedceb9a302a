import { kindOf } from './contenders.js';
import type { Settings } from './plan.js';
import type { RunResult } from './protocol.js';
import { int } from './stats.js';

/** What the rounds record besides results. */
export interface Journal {
  readonly began: number;
  readonly failures: string[];
  readonly skipped: string[];
  /** Wall-clock seconds spent per scenario, pre-fill and process start included. */
  readonly wallSeconds: Map<string, number>;
}

/** Starts an empty journal now. */
export function newJournal(): Journal {
  return { began: Date.now(), failures: [], skipped: [], wallSeconds: new Map() };
}

/** Progress goes to stderr; stdout carries only the tables. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function describe(result: RunResult, started: number): string {
  const capped = result.timedOut ? ', capped' : '';
  const wall = ((Date.now() - started) / 1000).toFixed(1);
  return `${int(result.rate)} msgs/s (${int(result.messages)} in ${(result.elapsedMs / 1000).toFixed(1)} s${capped}; wall ${wall} s)`;
}

/**
 * Runs every contender once per round, in the same order every round
 * (ABAB…), and collects each contender's results (undefined where a run
 * failed or was skipped for lack of time). A failed run is recorded and the
 * benchmark goes on.
 */
export async function rounds<C extends string>(
  scenario: string,
  settings: Settings,
  contenders: readonly C[],
  run: (contender: C) => Promise<RunResult>,
  journal: Journal,
): Promise<Map<C, Array<RunResult | undefined>>> {
  const runs = new Map<C, Array<RunResult | undefined>>(contenders.map((c) => [c, []]));
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const contender of contenders) {
      const results = runs.get(contender)!;
      const tag = `[${scenario} ${round}/${settings.rounds}] ${contender}`;
      const started = Date.now();
      if (started - journal.began > settings.budgetMs) {
        results.push(undefined);
        journal.skipped.push(`${scenario} round ${round} ${contender} (past the time budget of ${settings.budgetMs / 1000} s)`);
        continue;
      }
      try {
        const result = await run(contender);
        results.push(result);
        log(`${tag}: ${describe(result, started)}`);
      } catch (error) {
        results.push(undefined);
        const reason = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3).join(' ');
        // A competitor that is merely slow on a loaded machine says nothing about
        // our code rotting, so it must not fail CI; crashes, and our own
        // contenders timing out, still do.
        const isCompetitorTimeout = /timed out/.test(reason) && kindOf(contender).isCompetitor;
        if (isCompetitorTimeout) journal.skipped.push(`${scenario} round ${round} ${contender} (${reason})`);
        else journal.failures.push(`${scenario} round ${round} ${contender}: ${reason}`);
        log(`${tag}: FAILED after ${Date.now() - started} ms: ${reason}`);
      }
      journal.wallSeconds.set(scenario, (journal.wallSeconds.get(scenario) ?? 0) + (Date.now() - started) / 1000);
    }
  }
  return runs;
}
