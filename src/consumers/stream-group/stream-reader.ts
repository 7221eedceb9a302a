import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError, isGroupGone } from '../../errors/redis-reply.js';
import { StreamConfigurationError } from '../../errors/stream-configuration.error.js';
import type { MissingStreamPolicy } from '../../interfaces/server-options.interface.js';
import type { Acker } from './acker.js';
import { asConfigurationError, ensureGroup } from './consumer-group.js';
import type { EntryProcessor } from './entry-processor.js';
import { reconnectDelayMs } from '../../connection/redis-connection.js';
import { abortablePause } from '../../delivery/abortable-pause.js';
import { readCountOf } from '../../delivery/read-group-key.js';
import type { ReadEntries } from '../../connection/read-command.js';
import { SlottedMember } from '../../delivery/slotted-member.js';
import type { StreamScope } from './stream-scope.js';

export type { ReadEntries } from '../../connection/read-command.js';

/** What a stream reader needs besides its stream's scope. */
export interface StreamReaderDeps {
  readonly missingStream: MissingStreamPolicy;
  readonly streamWaitIntervalMs: number;
  readonly processor: EntryProcessor;
  readonly acker: Acker;
  /** Called, once, when the reader gives up for good (configuration errors); it logs the error. */
  readonly onFatal: (error: Error) => void;
}

/**
 * Besides `active`, `checking` and `stopped` (see MemberState):
 * - `waiting`: the stream does not exist yet (`missingStream: 'wait'`);
 * - `repairing`: its group vanished (NOGROUP) and is being created again;
 * - `paused`: backing off after a failure of its own.
 */
type ReaderState = 'waiting' | 'repairing' | 'paused';

/**
 * One stream's part in its read group (see GroupReader, which reads it with
 * the other streams that can share an XREADGROUP): where it reads from (its
 * own pending entries from `0` first, then new ones, `>`), whether a read of
 * it is on the wire, whether more entries are probably waiting. It reserves
 * handler slots before each read and gives back what the read did not use,
 * hands the entries to the entry processor, and repairs its stream when a
 * read's error concerns it.
 */
export class StreamReader extends SlottedMember<ReaderState> {
  /** Aborted by {@link stop}; also ends a pause or wait. */
  private readonly stopping = new AbortController();
  /** `0` (then the last own pending id seen) while re-reading own pending entries; `>` after. */
  private readCursor = '0';
  private isBacklogged = false;
  private failures = 0;
  /** Last id handed to this consumer; a recreated group resumes after it. */
  private lastSeenId: string;

  /**
   * @param startId - where a recreated group resumes until a read has seen an entry
   * @param hasGroup - false when the stream is missing and the group still has to be created
   */
  constructor(
    private readonly scope: StreamScope,
    private readonly deps: StreamReaderDeps,
    startId: string,
    hasGroup: boolean,
  ) {
    super(scope.slots, hasGroup ? 'active' : 'waiting');
    this.lastSeenId = startId;
  }

  /** The stream key. */
  get stream(): string {
    return this.scope.stream;
  }

  /** `>`, or the last own pending id seen: the id a read of it uses. */
  get cursor(): string {
    return this.readCursor;
  }

  /** It reads new entries (`>`) and its last read returned fewer than it asked for: it waits in the blocking read. */
  get isCaughtUp(): boolean {
    return this.readCursor === '>' && !this.isBacklogged;
  }

  /**
   * Starts taking part: at once, or once the stream exists.
   *
   * @param onChange - called whenever it may be read again (slots freed, repaired, the stream appeared)
   */
  override start(onChange: () => void): void {
    super.start(onChange);
    if (this.state === 'waiting') void this.waitForStream();
  }

  /** Stops for good: no more reads, waits or repairs. */
  stop(): void {
    this.state = 'stopped';
    this.stopping.abort();
    this.scope.slots.wakeAll();
  }

  /** Ends waits and repairs (the server is closing); reads on the wire still deliver. */
  abort(): void {
    this.stopping.abort();
    this.scope.slots.wakeAll();
  }

  /**
   * A read of `reserved` entries returned `entries`: gives back the slots it
   * did not use (each entry keeps one until settled) and notes what comes next.
   * Entries are handed to handlers by {@link deliver}, after the group has
   * sent its next reads.
   */
  settle(reserved: number, entries: ReadEntries): void {
    this.scope.slots.release(reserved - entries.length);
    this.failures = 0;
    if (this.cursor === '>') {
      // A full read says more are probably waiting; but a stream read one
      // entry at a time (concurrency 1) is read with the blocking read only,
      // which returns at once when entries are there.
      this.isBacklogged = entries.length === reserved && readCountOf(this.scope.options) > 1;
      this.isReading = false;
    } else if (entries.length === 0) {
      this.readCursor = '>';
      this.isReading = false;
    }
    // Own pending entries stay "reading" until delivered: their delivery counts are read first.
  }

  /** Hands a read's entries to the handlers (see {@link settle}). */
  deliver(entries: ReadEntries): void {
    if (entries.length === 0) return;
    if (this.state === 'stopped') {
      // The stream failed for good: its entries stay pending for another consumer.
      this.scope.slots.release(entries.length);
      return;
    }
    if (this.cursor === '>') this.deliverNew(entries);
    else void this.deliverOwnPending(entries);
  }

  protected carryOut(error: unknown): void {
    const { stream, group, logger, logPrefix } = this.scope;
    if (this.state === 'stopped') return;
    if (isConfigurationError(error)) {
      this.deps.onFatal(asConfigurationError(error, stream, group));
      return;
    }
    if (isGroupGone(error)) {
      logger.warn(`${logPrefix} the stream or group vanished (NOGROUP); recreating the group after ${this.lastSeenId}.`);
      void this.repair();
      return;
    }
    this.failures += 1;
    const delayMs = reconnectDelayMs(this.failures);
    logger.warn(`${logPrefix} read failed (${describeError(error)}); retrying in ${delayMs} ms.`);
    void this.pauseFor(delayMs);
  }

  private deliverNew(entries: ReadEntries): void {
    const { slots } = this.scope;
    const { processor } = this.deps;
    this.lastSeenId = entries[entries.length - 1]![0];
    const receivedAt = Date.now();
    for (const [id, flat] of entries) {
      // A new entry cannot have been deleted between XADD and this read in a
      // way Redis reports, but a null here must never reach a handler.
      if (flat === null) {
        this.deps.acker.ack(id);
        this.scope.telemetry.count('deleted', 1);
        slots.release();
        continue;
      }
      processor.process(id, flat, 1, receivedAt);
    }
  }

  private async deliverOwnPending(entries: ReadEntries): Promise<void> {
    const { commands, stream, group, consumer, slots, logger, logPrefix } = this.scope;
    const { processor } = this.deps;
    const first = entries[0]![0];
    const last = entries[entries.length - 1]![0];
    let deliveries: Map<string, number>;
    try {
      const pending = (await commands.xpending(stream, group, first, last, entries.length, consumer)) as Array<
        [string, string, number, number]
      >;
      deliveries = new Map(pending.map(([id, , , count]) => [id, count]));
    } catch (error) {
      // Delivery counts could not be read: give the slots back and read the
      // same pending entries again after a backoff.
      this.readFailed(entries.length, error);
      return;
    }
    this.readCursor = last;
    this.isReading = false;
    for (const [id, flat] of entries) {
      if (flat === null) {
        logger.warn(`${logPrefix} pending entry ${id} was deleted or trimmed; removing it from the pending list.`);
        this.deps.acker.ack(id);
        this.scope.telemetry.count('deleted', 1);
        slots.release();
        continue;
      }
      processor.process(id, flat, deliveries.get(id) ?? 1);
    }
    this.onChange();
  }

  /** Polls until a producer creates the stream, then creates the group on it. */
  private async waitForStream(): Promise<void> {
    const { commands, stream, group, logger, logPrefix } = this.scope;
    const { missingStream } = this.deps;
    while (!this.isStopping) {
      try {
        const state = await ensureGroup(commands, stream, group, '0', missingStream);
        if (state !== 'missing-stream') {
          logger.log(`Stream "${stream}" appeared; group "${group}" reads it from the beginning.`);
          this.becomeActive();
          return;
        }
      } catch (error) {
        if (error instanceof StreamConfigurationError) {
          this.deps.onFatal(error);
          return;
        }
        logger.warn(`${logPrefix} cannot check the stream (${describeError(error)}).`);
      }
      await this.pause(this.deps.streamWaitIntervalMs);
    }
  }

  /** Creates the group again after the last entry seen, waiting for the stream if it must. */
  private async repair(): Promise<void> {
    const { commands, stream, group, logger, logPrefix } = this.scope;
    const { missingStream } = this.deps;
    this.state = 'repairing';
    while (!this.isStopping) {
      try {
        const state = await ensureGroup(commands, stream, group, this.lastSeenId, missingStream);
        if (state !== 'missing-stream') {
          this.becomeActive();
          return;
        }
        await this.pause(this.deps.streamWaitIntervalMs);
      } catch (error) {
        if (error instanceof StreamConfigurationError) {
          this.deps.onFatal(error);
          return;
        }
        this.failures += 1;
        const delayMs = reconnectDelayMs(this.failures);
        logger.warn(`${logPrefix} could not recreate the group (${describeError(error)}); retrying in ${delayMs} ms.`);
        await this.pause(delayMs);
      }
    }
  }

  private async pauseFor(delayMs: number): Promise<void> {
    this.state = 'paused';
    await this.pause(delayMs);
    if (this.state === 'paused') this.becomeActive();
  }

  private becomeActive(): void {
    if (this.state === 'stopped' || this.isStopping) return;
    this.state = 'active';
    this.onChange();
  }

  private get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Waits `ms`, or until {@link stop}. */
  private async pause(ms: number): Promise<void> {
    await abortablePause(ms, this.stopping.signal);
  }
}
