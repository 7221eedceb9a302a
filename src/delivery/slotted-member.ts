import type { ReadEntries } from '../connection/read-command.js';
import type { ReadMember } from './shared-reader.js';
import type { Slots } from './slots.js';

/**
 * The states every stream of a shared read has: `active` (read with the
 * others), `checking` (a read it shared failed, and which stream the error is
 * about is being found out), `stopped` (for good). A mode adds its own.
 */
export type MemberState = 'active' | 'checking' | 'stopped';

/**
 * What every stream of a shared read does with its handler slots and a
 * shared read's failure, in every mode: it is read only while active, with no
 * read of it on the wire and a free slot; it reserves slots before a read and
 * gives back those a failed read held. A mode says where reads start, what
 * becomes of the entries, and what an error about the stream means
 * ({@link carryOut}).
 *
 * @typeParam S - the states the mode adds to {@link MemberState}
 */
export abstract class SlottedMember<S extends string = never> implements ReadMember {
  protected state: MemberState | S;
  /** A read of it is on the wire (a group's stream stays so until its own pending entries are delivered). */
  protected isReading = false;
  /** Called whenever it may be read again; set by {@link start}. */
  protected onChange: () => void = () => undefined;

  constructor(
    protected readonly slots: Slots,
    initial: MemberState | S,
  ) {
    this.state = initial;
  }

  abstract get stream(): string;
  abstract get cursor(): string;
  abstract get isCaughtUp(): boolean;
  abstract settle(reserved: number, entries: ReadEntries): void;
  abstract deliver(entries: ReadEntries): void;
  abstract abort(): void;

  /** Carries out an error that concerns this stream: stops, repairs or backs off. */
  protected abstract carryOut(error: unknown): void;

  /** Whether it may be read now: active, no read of it on the wire, a free slot. */
  get canRead(): boolean {
    return this.state === 'active' && !this.isReading && this.slots.free > 0;
  }

  /** Free handler slots (for the read planner). */
  get free(): number {
    return this.slots.free;
  }

  /** Whether it stopped for good. */
  get hasStopped(): boolean {
    return this.state === 'stopped';
  }

  /**
   * Starts taking part.
   *
   * @param onChange - called whenever it may be read again (slots freed, repaired, the stream appeared)
   */
  start(onChange: () => void): void {
    this.onChange = onChange;
  }

  /** When every slot is taken, asks to be told (through `onChange`) once one frees. */
  parkIfFull(): void {
    if (this.state !== 'active' || this.isReading || this.slots.free > 0) return;
    this.slots.onceFree(this.onChange);
  }

  /**
   * Reserves `count` slots for a read about to be sent. Slots are reserved
   * before the read, so nothing else (a group's reclaimer) can hand out the
   * same ones while it is on the wire: in flight never exceeds concurrency.
   */
  reserve(count: number): void {
    this.slots.take(count);
    this.isReading = true;
  }

  /**
   * A read of it failed; gives its slots back. An error that concerns the
   * stream (given when it was alone in the read, or when a check found it to
   * be the culprit) is carried out.
   *
   * @param error - undefined when the failure was not about this stream
   */
  readFailed(reserved: number, error?: unknown): void {
    this.slots.release(reserved);
    this.isReading = false;
    if (error !== undefined) this.carryOut(error);
  }

  /** A read it shared failed; it is left out of reads until {@link checked} says whether the error was about it. */
  check(): void {
    if (this.state === 'active') this.state = 'checking';
  }

  /** The outcome of the check: the error that concerns this stream, or undefined. */
  checked(error: unknown): void {
    if (this.state !== 'checking') return;
    this.state = 'active';
    if (error !== undefined) this.carryOut(error);
    else this.onChange();
  }
}
