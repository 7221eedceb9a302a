import { parseArgs } from 'node:util';
import type { AdminClient } from '../admin/admin-client.js';
import { describeError } from '../errors/describe-error.js';
import { ConnectFailure, connectAdmin, DEFAULT_URL } from './connect.js';
import { createOutput } from './output.js';
import { UsageError } from './usage-error.js';
import type { Verb } from './verb.js';
import { consumersCleanupVerb, claimVerb, releaseVerb, resetVerb } from './verbs/control.js';
import { dlqListVerb, dlqPurgeVerb, dlqReplayVerb, dlqShowVerb } from './verbs/dlq.js';
import { healthVerb } from './verbs/health.js';
import { groupsVerb, lagVerb, pendingVerb, streamsVerb } from './verbs/inspect.js';

/** Every verb, in the order `--help` lists them. */
export const VERBS: readonly Verb[] = [
  streamsVerb,
  groupsVerb,
  pendingVerb,
  lagVerb,
  dlqListVerb,
  dlqShowVerb,
  dlqReplayVerb,
  dlqPurgeVerb,
  claimVerb,
  releaseVerb,
  resetVerb,
  consumersCleanupVerb,
  healthVerb,
];

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  cluster: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_HELP =
  'Options of every verb:\n' +
  `  --url URL   the Redis to use (redis:// or rediss://, user and password in it); default REDIS_URL, else ${DEFAULT_URL}\n` +
  '  --cluster   URL is a node of a Redis Cluster\n' +
  '  --json      print JSON instead of tables\n' +
  "  --help      this text, or a verb's";

/** Where the CLI reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ends `--watch` loops. */
  readonly signal?: AbortSignal;
}

/**
 * Runs one command line of `nrs` (`nestjs-redis-streams`).
 *
 * @returns the exit code: 0 done, 1 a failure (Redis refused, nothing found, a step refused), 2 bad usage
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const verb = findVerb(argv);
  if (verb === undefined) {
    const asked = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    (asked ? io.stdout : io.stderr)(
      `${
        asked
          ? ''
          : `nrs: unknown verb "${argv
              .filter((a) => !a.startsWith('-'))
              .slice(0, 2)
              .join(' ')}"\n\n`
      }${overview()}\n`,
    );
    return asked ? 0 : 2;
  }
  const rest = argv.slice(verb.name.split(' ').length);
  let values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: { ...GLOBAL_OPTIONS, ...verb.options },
      allowPositionals: true,
      strict: true,
    }));
    if (values['help'] === true) {
      io.stdout(`${help(verb)}\n`);
      return 0;
    }
    const [min, max] = verb.arity;
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(positionals.length < min ? 'missing arguments' : `unexpected argument "${positionals[max]}"`);
    }
  } catch (error) {
    io.stderr(`nrs ${verb.name}: ${error instanceof Error ? error.message : String(error)}\n\n${help(verb)}\n`);
    return 2;
  }
  const url = (values['url'] as string | undefined) ?? io.env['REDIS_URL'] ?? DEFAULT_URL;
  let client: AdminClient | undefined;
  const redis = async (): Promise<AdminClient> => (client ??= await connectAdmin(url, values['cluster'] === true));
  const out = createOutput(io.stdout, values['json'] === true);
  try {
    return await verb.run({ redis, out, positionals, values, signal: io.signal ?? new AbortController().signal });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`nrs ${verb.name}: ${error.message}\n\n${help(verb)}\n`);
      return 2;
    }
    io.stderr(`nrs ${verb.name}: ${error instanceof ConnectFailure ? error.message : describeError(error)}\n`);
    return 1;
  } finally {
    client?.disconnect();
  }
}

/** The verb a command line names: two words (`dlq replay`) before one. */
function findVerb(argv: readonly string[]): Verb | undefined {
  const two = argv.slice(0, 2).join(' ');
  return VERBS.find((verb) => verb.name === two) ?? VERBS.find((verb) => verb.name === argv[0]);
}

function help(verb: Verb): string {
  const dry = verb.changes === true ? '\n\nThis verb changes Redis: without --execute it only prints what it would do.' : '';
  return `${verb.summary}\n\nUsage: ${verb.usage}${dry}\n\n${GLOBAL_HELP}`;
}

function overview(): string {
  const width = Math.max(...VERBS.map((verb) => verb.name.length));
  return (
    'nrs (nestjs-redis-streams): inspect and repair the streams, groups and dead letters of nestjs-redis-streams.\n\n' +
    `Usage: nrs VERB [ARGS] [--url URL] [--json]\n\nVerbs:\n${VERBS.map((verb) => `  ${verb.name.padEnd(width)}  ${verb.summary}`).join('\n')}\n\n` +
    `${GLOBAL_HELP}\n\nExit codes: 0 ok, 1 failure, 2 bad usage. "nrs VERB --help" describes a verb.`
  );
}
