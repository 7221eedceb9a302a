/** An entry XCLAIM handed over: its id and flat field list. */
export type ClaimedEntry = [id: string, flat: string[]];

/** What an XCLAIM reply says, on every Redis version. */
export interface ClaimReply {
  /** Entries now owned by the claimer, to be handled. */
  readonly entries: ClaimedEntry[];
  /**
   * Ids that were asked for and not handed over, when the reply shows that
   * some of them were deleted while pending (Redis 6.2 replies nil for those
   * and keeps them pending on the claimer); empty otherwise. Those that no
   * longer exist in the stream must be acknowledged, or they stay pending for ever.
   */
  readonly possiblyDeleted: string[];
}

/**
 * Reads an XCLAIM reply. Redis 7.0 and later leave out entries deleted while
 * pending (and drop them from the pending list); Redis 6.2 replies nil in
 * their place, without saying which id it was: ids the claim skipped (no
 * longer idle enough, or claimed by another consumer first) are left out too.
 *
 * @param requested - the ids sent to XCLAIM
 */
export function parseClaimReply(reply: unknown, requested: readonly string[]): ClaimReply {
  const entries: ClaimedEntry[] = [];
  let deletedCount = 0;
  for (const item of Array.isArray(reply) ? (reply as unknown[]) : []) {
    if (isEntry(item)) entries.push(item);
    else deletedCount += 1;
  }
  if (deletedCount === 0) return { entries, possiblyDeleted: [] };
  const returned = new Set(entries.map(([id]) => id));
  return { entries, possiblyDeleted: requested.filter((id) => !returned.has(id)) };
}

function isEntry(item: unknown): item is ClaimedEntry {
  return Array.isArray(item) && typeof item[0] === 'string' && Array.isArray(item[1]);
}
