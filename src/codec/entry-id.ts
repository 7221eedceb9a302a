/** An entry id as Redis takes it: `<ms>-<seq>`, or `<ms>` alone (sequence 0). */
const ENTRY_ID = /^\d+(-\d+)?$/;

/** The smallest entry id: reading after it reads a stream from its start. */
export const FIRST_ENTRY_ID = '0-0';

/** Whether `value` is an entry id Redis accepts in XREAD, XRANGE or XGROUP CREATE (`1700000000000-0`, `1700000000000`). */
export function isEntryId(value: unknown): value is string {
  return typeof value === 'string' && ENTRY_ID.test(value);
}

/**
 * The id in the full form Redis replies with: `<ms>-<seq>` without leading
 * zeros (`00042` is `42-0`).
 *
 * @throws RangeError when `id` is not an entry id (see {@link isEntryId})
 */
export function normalEntryId(id: string): string {
  if (!isEntryId(id)) throw new RangeError(`not an entry id: ${JSON.stringify(id)}`);
  const at = id.indexOf('-');
  const ms = at === -1 ? id : id.slice(0, at);
  const seq = at === -1 ? '0' : id.slice(at + 1);
  return `${withoutLeadingZeros(ms)}-${withoutLeadingZeros(seq)}`;
}

/**
 * Compares two entry ids as Redis orders them: by milliseconds, then by
 * sequence, each as a number (`5-9` before `5-10`, `999-0` before `1000-0`),
 * exactly even beyond 2^53 (both parts are unsigned 64-bit in Redis).
 *
 * @returns a negative number when `a` comes first, 0 when equal, positive when `b` does
 * @throws RangeError when either is not an entry id
 */
export function compareEntryIds(a: string, b: string): number {
  const [aMs, aSeq] = partsOf(a);
  const [bMs, bSeq] = partsOf(b);
  return compareDigits(aMs, bMs) || compareDigits(aSeq, bSeq);
}

/** The milliseconds of an entry id, the time Redis stamped on it (for ids it generated). */
export function entryIdTime(id: string): number {
  return Number(partsOf(id)[0]);
}

function partsOf(id: string): [ms: string, seq: string] {
  const [ms, seq] = normalEntryId(id).split('-') as [string, string];
  return [ms, seq];
}

/** Orders two decimal digit strings without leading zeros by their value. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function withoutLeadingZeros(digits: string): string {
  const trimmed = digits.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/**
 * The millisecond time in a stream entry id (`<ms>-<seq>`, or `<ms>` alone),
 * or undefined when it holds none that a `Date` can show (for times in the
 * argo-events envelope and the CLI's tables).
 */
export function entryIdMs(id: string): number | undefined {
  if (!isEntryId(id)) return undefined;
  const ms = entryIdTime(id);
  return Number.isSafeInteger(ms) && !Number.isNaN(new Date(ms).getTime()) ? ms : undefined;
}
