import {
  allDeadLetters,
  isFromList,
  legacyDeadLetters,
  deadLetterStreamOf,
  deadLettersById,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetter,
  replayRefusal,
  type DeadLetter,
} from '../../admin/dead-letters.js';
import { showValue } from '../output.js';
import { UsageError } from '../usage-error.js';
import type { Verb, VerbContext } from '../verb.js';
import { entryId, flag, listOption, stringOption, wholeOption } from '../values.js';

const DLQ = { dlq: { type: 'string' } } as const;
const DLQ_HELP = '  --dlq KEY   the dead-letter stream, when not the default name ({STREAM}:dlq, or STREAM:dlq for a key with a hash tag)';

function deadLetterStream({ positionals, values }: VerbContext): string {
  return deadLetterStreamOf(positionals[0]!, stringOption(values, 'dlq'));
}

/** `dlq list STREAM`: the dead letters of a stream, oldest first. */
export const dlqListVerb: Verb = {
  name: 'dlq list',
  summary: 'dead letters of a stream: id, original id, deliveries, error, time',
  usage: `nrs dlq list STREAM [--dlq KEY] [--count N]\n\n${DLQ_HELP}\n  --count N   at most N, default 100`,
  options: { ...DLQ, count: { type: 'string' } },
  arity: [1, 1],
  async run(context) {
    const dlq = deadLetterStream(context);
    const redis = await context.redis();
    const letters = await readDeadLetters(redis, dlq, wholeOption(context.values, 'count', 100, 1));
    const legacy =
      stringOption(context.values, 'dlq') === undefined ? await legacyDeadLetters(redis, context.positionals[0]!, dlq) : undefined;
    if (legacy !== undefined) {
      context.out.line(
        `Note: ${legacy.length} dead letter(s) under "${legacy.key}", the default name before 0.2.0: list them with --dlq '${legacy.key}', ` +
          `replay them with dlq replay --dlq '${legacy.key}', or move them (README, "Upgrading from 0.1.0").\n`,
      );
    }
    context.out.line(`Dead-letter stream "${dlq}":`);
    context.out.result(letters.map(summary), {
      columns: ['DEAD-LETTER ID', 'FROM', 'ORIGINAL ID', 'GROUP', 'DELIVERIES', 'ERROR', 'TIME'],
      rows: letters.map(({ deadLetterId, record: r }) => [deadLetterId, r?.stream, r?.id, r?.group, r?.deliveries, r?.error, r?.time]),
    });
    return 0;
  },
};

/** `dlq show STREAM ID`: one dead letter with its original fields. */
export const dlqShowVerb: Verb = {
  name: 'dlq show',
  summary: 'one dead letter: where it came from, why, and its original fields',
  usage: `nrs dlq show STREAM ID [--dlq KEY]\n\n  ID          the dead-letter entry id (from dlq list)\n${DLQ_HELP}`,
  options: DLQ,
  arity: [2, 2],
  async run(context) {
    const dlq = deadLetterStream(context);
    const id = entryId(context.positionals[1]!, 'ID');
    const [letter] = await deadLettersById(await context.redis(), dlq, [id]);
    if (letter === undefined) {
      context.out.result({ error: `no dead letter ${id} in "${dlq}"` });
      context.out.line(`No dead letter ${id} in "${dlq}".`);
      return 1;
    }
    const { record } = letter;
    context.out.line(
      record === undefined
        ? `${id} in "${dlq}" is not a dead letter of this transport (its fields are shown as they are).`
        : `${id}: entry ${record.id} of "${record.stream}", group "${record.group}", consumer "${record.consumer}", ${record.deliveries} deliveries, at ${record.time}\nerror: ${record.error}\n`,
    );
    const fields = record?.fields ?? [];
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([showValue(fields[i]!), showValue(fields[i + 1]!)]);
    context.out.result({ ...summary(letter), fields }, { columns: ['FIELD', 'VALUE'], rows: pairs });
    return 0;
  },
};

/** `dlq replay STREAM (--id ID... | --all)`: the original entries back onto their stream, dead letters removed. */
export const dlqReplayVerb: Verb = {
  name: 'dlq replay',
  summary: 'put dead letters back onto their stream or list (byte for byte, without dlq-* fields) and remove them',
  usage:
    `nrs dlq replay STREAM (--id ID ... | --all) [--dlq KEY] [--execute]\n\n` +
    `  --id ID     a dead-letter entry id (repeat for several)\n  --all       every dead letter of STREAM\n${DLQ_HELP}\n` +
    '  --execute   do it; without, print what would be done\n\n' +
    "Each replay is one step in Redis (a script): the original fields are added to STREAM as a new entry (a list queue's dead letter: its entry RPUSHed onto the list STREAM names), then the dead letter is deleted.",
  options: { ...DLQ, id: { type: 'string', multiple: true }, all: { type: 'boolean' }, execute: { type: 'boolean' } },
  arity: [1, 1],
  changes: true,
  async run(context) {
    const { values, out } = context;
    const source = context.positionals[0]!;
    const dlq = deadLetterStream(context);
    const ids = listOption(values, 'id')?.map((id) => entryId(id, '--id'));
    if ((ids === undefined) === !flag(values, 'all')) throw new UsageError('give --id ID (one or more) or --all');
    const redis = await context.redis();
    const letters = ids === undefined ? await allDeadLetters(redis, dlq) : await deadLettersById(redis, dlq, ids);
    const missing = (ids ?? []).filter((id) => !letters.some((letter) => letter.deadLetterId === id));
    const refused = letters.map((letter) => ({ letter, reason: replayRefusal(letter, source) })).filter((r) => r.reason !== undefined);
    const fit = letters.filter((letter) => replayRefusal(letter, source) === undefined);
    for (const id of missing) out.line(`${id}: no such dead letter in "${dlq}".`);
    for (const { letter, reason } of refused) out.line(`${letter.deadLetterId}: not replayed: ${reason}.`);
    const execute = flag(values, 'execute');
    const replayed: Array<{ deadLetterId: string; newId: string | undefined }> = [];
    for (const letter of fit) {
      if (!execute) {
        out.line(
          `would replay ${letter.deadLetterId} (${isFromList(letter) ? 'a list entry, with RPUSH' : `entry ${letter.record!.id}`}) onto "${source}"`,
        );
        continue;
      }
      const newId = await replayDeadLetter(redis, dlq, source, letter);
      replayed.push({ deadLetterId: letter.deadLetterId, newId });
      out.line(
        newId === undefined ? `${letter.deadLetterId}: gone meanwhile` : `replayed ${letter.deadLetterId} onto "${source}" as ${newId}`,
      );
    }
    if (!execute) out.line(`Dry run: ${fit.length} dead letter(s) would be replayed. Add --execute to do it.`);
    out.result({
      dryRun: !execute,
      deadLetterStream: dlq,
      stream: source,
      replayed: execute ? replayed : fit.map((letter) => ({ deadLetterId: letter.deadLetterId, newId: undefined })),
      refused: refused.map(({ letter, reason }) => ({ deadLetterId: letter.deadLetterId, reason })),
      missing,
    });
    return missing.length > 0 || refused.length > 0 ? 1 : 0;
  },
};

/** `dlq purge STREAM`: deletes the dead-letter stream. */
export const dlqPurgeVerb: Verb = {
  name: 'dlq purge',
  summary: 'delete every dead letter of a stream',
  usage: `nrs dlq purge STREAM [--dlq KEY] [--execute]\n\n${DLQ_HELP}\n  --execute   do it; without, print what would be done`,
  options: { ...DLQ, execute: { type: 'boolean' } },
  arity: [1, 1],
  changes: true,
  async run(context) {
    const dlq = deadLetterStream(context);
    const redis = await context.redis();
    if (!flag(context.values, 'execute')) {
      const length = await redis.xlen(dlq);
      context.out.line(`Dry run: would delete "${dlq}" and its ${length} dead letter(s). Add --execute to do it.`);
      context.out.result({ dryRun: true, deadLetterStream: dlq, deadLetters: length });
      return 0;
    }
    const deleted = await purgeDeadLetters(redis, dlq);
    context.out.line(`Deleted "${dlq}" (${deleted} dead letter(s)).`);
    context.out.result({ dryRun: false, deadLetterStream: dlq, deadLetters: deleted });
    return 0;
  },
};

function summary({ deadLetterId, record }: DeadLetter): Record<string, unknown> {
  if (record === undefined) return { deadLetterId, isDeadLetter: false };
  const { fields: _fields, ...origin } = record;
  return { deadLetterId, ...origin };
}
