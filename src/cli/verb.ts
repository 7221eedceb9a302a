import type { ParseArgsConfig } from 'node:util';
import type { AdminClient } from '../admin/admin-client.js';
import type { Output } from './output.js';

/** Option values as `parseArgs` gives them. */
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** What a verb runs with. */
export interface VerbContext {
  /** Connects on first use; the runner closes it. */
  readonly redis: () => Promise<AdminClient>;
  readonly out: Output;
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  /** Ends a `--watch` loop (Ctrl-C). */
  readonly signal: AbortSignal;
}

/** One verb of the CLI (`streams`, `dlq replay`, ...). */
export interface Verb {
  /** As typed: `streams`, `dlq replay`. */
  readonly name: string;
  /** One line for the verb list. */
  readonly summary: string;
  /** The synopsis and every option, for `--help`. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** How many positionals it takes: [min, max]. */
  readonly arity: readonly [number, number];
  /** Whether it changes Redis (then it is a dry run unless `--execute`). */
  readonly changes?: boolean;
  /** Runs the verb; resolves with the exit code (0 ok, 1 a failure it reported). */
  run(context: VerbContext): Promise<number>;
}
