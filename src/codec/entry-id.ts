/**
 * The millisecond time in a stream entry id (`<ms>-<seq>`, or `<ms>` alone),
 * or undefined when it holds none that a `Date` can show.
 */
export function entryIdMs(id: string): number | undefined {
  const dash = id.indexOf('-');
  const ms = Number(dash === -1 ? id : id.slice(0, dash));
  return Number.isSafeInteger(ms) && ms >= 0 && !Number.isNaN(new Date(ms).getTime()) ? ms : undefined;
}
