/**
 * An entry this consumer is handling now. The list links entries through these
 * fields, so tracking one costs no hashing and no allocation: at full speed
 * every entry is added and removed once, and that showed in profiles as a Map.
 */
export class InFlightEntry {
  /** When the entry's lease was last renewed (epoch ms); it was read at that time at the latest. */
  renewedAt: number;
  /** @internal links of {@link InFlightList}; undefined at the ends. */
  prev: InFlightEntry | undefined;
  /** @internal */
  next: InFlightEntry | undefined;
  /** @internal whether the entry is in the list. */
  isListed = false;

  constructor(
    readonly id: string,
    receivedAt: number,
  ) {
    this.renewedAt = receivedAt;
  }

  /** Tells its handler to give up (the context's `signal`); nothing by default. */
  abort(_reason: Error): void {
    // Entries without a handler's signal have nothing to abort.
  }

  /**
   * The entry is no longer this consumer's (its lease was lost): it is settled
   * without a Redis call about it, and its handler told to give up.
   */
  loseLease(reason: Error): void {
    this.abort(reason);
  }

  /** The server released the entry to the group at shutdown, its handler still running; nothing by default. */
  released(): void {
    // Entries without telemetry have nothing to record.
  }
}

/** The entries a stream's consumer is handling: for lease renewal, claim scans and shutdown. */
export class InFlightList {
  private head: InFlightEntry | undefined;
  private count = 0;

  /** Number of entries being handled. */
  get size(): number {
    return this.count;
  }

  add(entry: InFlightEntry): void {
    if (entry.isListed) return;
    entry.isListed = true;
    entry.prev = undefined;
    entry.next = this.head;
    if (this.head !== undefined) this.head.prev = entry;
    this.head = entry;
    this.count += 1;
  }

  /** Removes the entry; does nothing when it is not in the list. */
  remove(entry: InFlightEntry): void {
    if (!entry.isListed) return;
    entry.isListed = false;
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    this.count -= 1;
  }

  /** The entries, newest first (a snapshot: safe to change the list meanwhile). */
  entries(): InFlightEntry[] {
    const all: InFlightEntry[] = [];
    for (let entry = this.head; entry !== undefined; entry = entry.next) all.push(entry);
    return all;
  }

  /** The ids being handled. */
  ids(): string[] {
    return this.entries().map((entry) => entry.id);
  }
}
