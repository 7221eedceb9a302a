import { DEAD_LETTER_FIELDS, LIST_DEAD_LETTER_ID, LIST_ENTRY_FIELD } from '../constants.js';
import { isListDeadLetter, readDeadLetterFields, type ReadDeadLetter } from '../codec/dead-letter-record.js';
import { fromBytes } from '../codec/stream-codec.js';
import { deadLetterKeyOf, legacyDeadLetterKeyOf } from '../routing/key-names.js';
import type { AdminClient } from './admin-client.js';

/** A dead-letter entry: its id in the dead-letter stream and what it records (undefined when it is not one of ours). */
export interface DeadLetter {
  readonly deadLetterId: string;
  readonly record: ReadDeadLetter | undefined;
}

/** The dead-letter stream of a source: `--dlq` when given, else the server's default name. */
export function deadLetterStreamOf(source: string, given?: string): string {
  return given ?? deadLetterKeyOf(source);
}

/**
 * Dead letters left under the default name of versions before 0.2.0
 * (`<stream>:dlq`, now `{<stream>}:dlq` for a key without a hash tag), when
 * that key is a stream with entries and not the name in use.
 */
export async function legacyDeadLetters(
  redis: AdminClient,
  source: string,
  inUse: string,
): Promise<{ key: string; length: number } | undefined> {
  const key = legacyDeadLetterKeyOf(source);
  if (key === inUse || (await redis.type(key)) !== 'stream') return undefined;
  const length = await redis.xlen(key);
  return length > 0 ? { key, length } : undefined;
}

/** Page size of reads of a dead-letter stream. */
const PAGE = 500;

/**
 * Dead letters oldest first, read as bytes (field values byte for byte),
 * starting after `after` (exclusive; `-` for the start), at most `count`.
 */
export async function readDeadLetters(redis: AdminClient, deadLetterStream: string, count: number, after = '-'): Promise<DeadLetter[]> {
  const start = after === '-' ? '-' : `(${after}`;
  const rows = await redis.xrangeBuffer(deadLetterStream, start, '+', 'COUNT', count);
  return rows.map(([id, flat]) => ({ deadLetterId: id.toString(), record: readDeadLetterFields(fromBytes(flat)) }));
}

/** The dead letters with these ids (in that order); an id that is not there is left out. */
export async function deadLettersById(redis: AdminClient, deadLetterStream: string, ids: readonly string[]): Promise<DeadLetter[]> {
  const found = await Promise.all(
    ids.map(async (id) => {
      const rows = await redis.xrangeBuffer(deadLetterStream, id, id);
      const row = rows[0];
      return row === undefined ? undefined : { deadLetterId: row[0].toString(), record: readDeadLetterFields(fromBytes(row[1])) };
    }),
  );
  return found.filter((letter): letter is DeadLetter => letter !== undefined);
}

/** Every dead letter of a stream, page by page. */
export async function allDeadLetters(redis: AdminClient, deadLetterStream: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let after = '-'; ;) {
    const page = await readDeadLetters(redis, deadLetterStream, PAGE, after);
    letters.push(...page);
    if (page.length < PAGE) return letters;
    after = page.at(-1)!.deadLetterId;
  }
}

/** Why a dead letter cannot be replayed onto `target`, or undefined when it can. */
export function replayRefusal(letter: DeadLetter, target: string): string | undefined {
  if (letter.record === undefined)
    return `it does not end with the ${DEAD_LETTER_FIELDS.stream} … ${DEAD_LETTER_FIELDS.time} fields the transport writes`;
  if (letter.record.fields.length === 0) return 'it holds no original fields';
  if (letter.record.stream !== target)
    return `it came from "${letter.record.stream}", not "${target}" (replay it onto its own ${isFromList(letter) ? 'list' : 'stream'})`;
  return undefined;
}

/**
 * Puts one dead letter's original fields back onto the source stream (a new
 * entry id, fields byte for byte, without the dlq-* fields) and deletes the
 * dead letter, in one step: a failing XADD leaves the dead letter where it is.
 * KEYS: [1] the dead-letter stream, [2] the source stream (one slot on a
 * cluster). ARGV: [1] the dead-letter id. Returns the new entry's id, or
 * false when the dead letter is gone.
 */
const REPLAY_SCRIPT = `
local row = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not row then return false end
local fields = row[2]
local keep = #fields - 14
local origin = {'${Object.values(DEAD_LETTER_FIELDS).join("','")}'}
if keep < 2 then return redis.error_reply('NRSREPLAY entry ' .. ARGV[1] .. ' holds no original fields') end
for i, name in ipairs(origin) do
  if fields[keep + 2 * i - 1] ~= name then return redis.error_reply('NRSREPLAY entry ' .. ARGV[1] .. ' is not a dead letter of this transport') end
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields, 1, keep))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
`;

/**
 * The same for a list queue's dead letter (its one original field, `list-entry`,
 * the entry's bytes): RPUSHes the entry back onto the list as a new job, then
 * deletes the dead letter, in one step. KEYS: [1] the dead-letter stream,
 * [2] the list. ARGV: [1] the dead-letter id. Returns the list's new length, or
 * false when the dead letter is gone.
 */
const REPLAY_LIST_SCRIPT = `
local row = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not row then return false end
local fields = row[2]
if #fields ~= 16 or fields[1] ~= '${LIST_ENTRY_FIELD}' or fields[5] ~= '${DEAD_LETTER_FIELDS.id}' or fields[6] ~= '${LIST_DEAD_LETTER_ID}' then
  return redis.error_reply('NRSREPLAY entry ' .. ARGV[1] .. ' is not a dead letter of a list queue')
end
local length = redis.call('RPUSH', KEYS[2], fields[2])
redis.call('XDEL', KEYS[1], ARGV[1])
return length
`;

/** Whether a dead letter came from a list queue (its entry goes back with RPUSH, not XADD). */
export function isFromList(letter: DeadLetter): boolean {
  return letter.record !== undefined && isListDeadLetter(letter.record);
}

/**
 * Replays one dead letter onto `target` (see REPLAY_SCRIPT; a list queue's
 * dead letter goes back onto its list, see REPLAY_LIST_SCRIPT).
 *
 * @returns the new entry id on the source stream, or undefined when the dead letter is gone
 */
export async function replayDeadLetter(
  redis: AdminClient,
  deadLetterStream: string,
  target: string,
  letter: DeadLetter,
): Promise<string | undefined> {
  const fromList = isFromList(letter);
  const reply = (await redis.eval(fromList ? REPLAY_LIST_SCRIPT : REPLAY_SCRIPT, 2, deadLetterStream, target, letter.deadLetterId)) as
    string | number | null;
  if (reply === null) return undefined;
  return fromList ? `list length ${reply}` : String(reply);
}

/** Deletes a dead-letter stream; returns how many dead letters it held. */
export async function purgeDeadLetters(redis: AdminClient, deadLetterStream: string): Promise<number> {
  const length = await redis.xlen(deadLetterStream);
  await redis.del(deadLetterStream);
  return length;
}
