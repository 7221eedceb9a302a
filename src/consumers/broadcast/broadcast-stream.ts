import { FIRST_ENTRY_ID } from '../../codec/entry-id.js';
import type { ReadEntries } from '../../connection/read-command.js';
import { reconnectDelayMs } from '../../connection/redis-connection.js';
import { readCountOf } from '../../delivery/read-group-key.js';
import { SlottedMember } from '../../delivery/slotted-member.js';
import { describeError } from '../../errors/describe-error.js';
import { isConfigurationError, isGroupGone } from '../../errors/redis-reply.js';
import { asConfigurationError } from '../../errors/stream-configuration.error.js';
import { BroadcastRun } from './broadcast-run.js';
import type { BroadcastScope } from './broadcast-scope.js';
import { higherId, judgeTip, type StreamTip, type TipVerdict } from './stream-tip.js';

/** Besides `active`, `checking` and `stopped` (see MemberState): `paused`, backing off after a failure of its own. */
type BroadcastState = 'paused';

/**
 * One broadcast stream's part in its reader (see BroadcastReader): its
 * position (the id of the last entry read; reads ask for the entries after
 * it), whether a read of it is on the wire, whether more entries are
 * probably waiting. The position moves on when a read returns, before the
 * handlers run: nothing is acknowledged, and an entry is handed to this
 * instance's handler once.
 */
export class BroadcastStream extends SlottedMember<BroadcastState> {
  private position: string;
  /** The highest id known to exist(ed) in the stream: a tip below it means the stream was recreated. */
  private highestKnown: string | undefined;
  private isBacklogged = false;
  /** A look found the stream recreated while a read of it was on the wire: applied when it returns. */
  private isRestartDue = false;
  /** Whether a read returned entries since the last round of looks at the streams' tips. */
  private hasReadSinceLook = false;
  private failures = 0;
  private pauseTimer: NodeJS.Timeout | undefined;

  /**
   * @param position - where reads start (see startPosition)
   * @param tip - the stream's tip when the server started
   * @param onFatal - called once when the stream cannot be read any more (wrong type, permissions)
   */
  constructor(
    private readonly scope: BroadcastScope,
    position: string,
    tip: StreamTip,
    private readonly onFatal: (error: Error) => void,
  ) {
    super(scope.slots, 'active');
    this.position = position;
    this.highestKnown = tip === 'missing' ? undefined : tip.lastId;
  }

  /** The stream key. */
  get stream(): string {
    return this.scope.stream;
  }

  /** `Broadcast stream "<stream>":`, the start of the log lines about it. */
  get logPrefix(): string {
    return this.scope.logPrefix;
  }

  /** The id reads ask for entries after: the last entry read. */
  get cursor(): string {
    return this.position;
  }

  /** Its last read returned fewer entries than asked for: it waits in the blocking read. */
  get isCaughtUp(): boolean {
    return !this.isBacklogged;
  }

  /** Handlers running now. */
  get running(): number {
    return this.scope.slots.capacity - this.scope.slots.free;
  }

  /** Resolves once no handler of the stream runs (or {@link stop} wakes it). */
  whenIdle(): Promise<void> {
    return this.scope.slots.whenIdle();
  }

  /**
   * Whether its tip is worth a look this round: active, and no entry read
   * since the previous round (a stream that is being read is not stuck).
   * Starts the next round.
   */
  isDueForLook(): boolean {
    const isDue = this.state === 'active' && !this.hasReadSinceLook;
    this.hasReadSinceLook = false;
    return isDue;
  }

  /** Stops for good. */
  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.pauseTimer);
    this.scope.slots.wakeAll();
  }

  abort(): void {
    clearTimeout(this.pauseTimer);
    this.scope.slots.wakeAll();
  }

  settle(reserved: number, entries: ReadEntries): void {
    this.scope.slots.release(reserved - entries.length);
    this.isReading = false;
    this.failures = 0;
    // A stream read one entry at a time is read with the blocking read only, which returns at once when entries are there.
    this.isBacklogged = entries.length === reserved && readCountOf(this.scope.options) > 1;
    const last = entries[entries.length - 1];
    if (last !== undefined) {
      // XREAD returns only entries after the position, in order: the last one is the highest.
      this.position = last[0];
      this.highestKnown = higherId(this.highestKnown, last[0]);
      this.hasReadSinceLook = true;
      // Entries came after all: the stream moved on, past what the look saw.
      this.isRestartDue = false;
    } else if (this.isRestartDue) {
      this.isRestartDue = false;
      this.restartNow();
    }
  }

  deliver(entries: ReadEntries): void {
    if (entries.length === 0) return;
    const { slots } = this.scope;
    if (this.state === 'stopped') {
      slots.release(entries.length);
      return;
    }
    for (const [id, flat] of entries) {
      // XREAD never returns a deleted entry as null, but a null must never reach a handler.
      if (flat === null) {
        slots.release();
        continue;
      }
      new BroadcastRun(this.scope, id, flat).start();
    }
  }

  /**
   * What a look at the stream's tip found. A stream that vanished or was
   * recreated is read again from its start (after `0-0`; a missing key is
   * then waited for by the blocking read itself).
   *
   * @returns the verdict; when it is not `same` and a read of the stream is
   *   blocked, the caller interrupts it so that the next read uses the new position
   */
  looked(tip: StreamTip): TipVerdict {
    const verdict = judgeTip(tip, this.highestKnown);
    if (verdict === 'same') {
      if (tip !== 'missing') this.highestKnown = higherId(this.highestKnown, tip.lastId);
      return verdict;
    }
    const { logger, logPrefix } = this.scope;
    const seen = tip === 'missing' ? 'the key is gone' : `its last id ${tip.lastId} is below ${this.highestKnown ?? ''}`;
    logger.warn(
      `${logPrefix} the stream was deleted${verdict === 'recreated' ? ' and created again' : ''} (${seen}); reading it from its start${verdict === 'vanished' ? ' once it exists again' : ''}.`,
    );
    if (this.isReading) this.isRestartDue = true;
    else this.restartNow();
    return verdict;
  }

  private restartNow(): void {
    this.position = FIRST_ENTRY_ID;
    this.highestKnown = undefined;
    this.isBacklogged = false;
    this.onChange();
  }

  protected carryOut(error: unknown): void {
    if (this.state === 'stopped') return;
    if (isConfigurationError(error)) {
      this.onFatal(asConfigurationError(error, this.scope.stream, ''));
      return;
    }
    if (isGroupGone(error)) {
      // A blocked read released because its key was deleted (never seen for XREAD so far): read the new stream from its start.
      this.restartNow();
      return;
    }
    this.failures += 1;
    const delayMs = reconnectDelayMs(this.failures);
    this.scope.logger.warn(`${this.scope.logPrefix} read failed (${describeError(error)}); retrying in ${delayMs} ms.`);
    this.state = 'paused';
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => {
      if (this.state !== 'paused') return;
      this.state = 'active';
      this.onChange();
    }, delayMs);
  }
}
