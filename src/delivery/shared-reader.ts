import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BlockingRead } from '../connection/blocking-read.js';
import { streamNameOf } from '../connection/key-prefix.js';
import { sendRead, type ReadAs, type ReadEntries, type ReadReply } from '../connection/read-command.js';
import type { RedisClient } from '../connection/redis-client.js';
import { ConnectionLostError, reconnectDelayMs } from '../connection/redis-connection.js';
import { describeError } from '../errors/describe-error.js';
import { isConfigurationError, isGroupGone } from '../errors/redis-reply.js';
import { Pulse } from './pulse.js';
import { errorsOfEach } from './read-attribution.js';
import { planReads, type PlannedRead, type ReadCandidate } from './read-plan.js';

/**
 * One stream's part in a shared read (a group's StreamReader, a broadcast
 * stream): its state, its slots and what becomes of the entries read for it.
 */
export interface ReadMember extends ReadCandidate {
  /** The stream key, as bound (without a keyPrefix). */
  readonly stream: string;
  /** The id a read of it uses now. */
  readonly cursor: string;
  /** Whether it may be read now: active, no read of it on the wire, a free slot. */
  readonly canRead: boolean;
  /** Starts taking part; `onChange` is called whenever it may be read again. */
  start(onChange: () => void): void;
  /** Ends its waits and repairs (the reader is stopping); reads on the wire still deliver. */
  abort(): void;
  /** When every slot is taken, asks to be told (through `onChange`) once one frees. */
  parkIfFull(): void;
  /** Reserves `count` slots for a read about to be sent. */
  reserve(count: number): void;
  /** A read of `reserved` entries came back with `entries`: gives back what it did not use, moves its cursor. */
  settle(reserved: number, entries: ReadEntries): void;
  /** Hands a read's entries to the handlers, after the next reads went out. */
  deliver(entries: ReadEntries): void;
  /** A read of it failed; `error` is set when the failure is about this stream. */
  readFailed(reserved: number, error?: unknown): void;
  /** A read it shared failed; it sits out until {@link checked}. */
  check(): void;
  /** The outcome of the check: the error that concerns this stream, or undefined. */
  checked(error: unknown): void;
}

/** What a shared reader needs. */
export interface SharedReaderDeps {
  /** A group's consumer (XREADGROUP), or `broadcast` (XREAD). */
  readonly as: ReadAs;
  /** BLOCK of the blocking read, the same for every stream of the reader. */
  readonly blockMs: number;
  /** Most entries a read asks of one stream, `min(batchSize, concurrency)`, the same for every stream. */
  readonly readCount: number;
  /** The dedicated blocking connection. */
  readonly blocking: Redis;
  /** Shared connection: backlog reads while the blocking one waits, CLIENT UNBLOCK, checks (on a cluster, an ioredis Cluster). */
  readonly commands: RedisClient;
  readonly logger: Logger;
  /** Starts the log lines about the reads: `Streams "a", "b" group "g":`. */
  readonly logPrefix: string;
}

/** A stream in a read on the wire, with the slots reserved for it. */
interface Member<M extends ReadMember> {
  readonly reader: M;
  readonly reserved: number;
}

/** A read that came back, waiting for the loop. */
interface Arrival<M extends ReadMember> {
  readonly members: ReadonlyArray<Member<M>>;
  readonly isBlocking: boolean;
  readonly reply?: ReadReply;
  readonly error?: unknown;
}

/**
 * Reads every stream of one read group (see readGroupKey), in a single
 * `while` loop, with as few commands as their state allows:
 *
 * - streams waiting for new entries share ONE blocking
 *   `XREADGROUP ... COUNT n BLOCK ms STREAMS k1 k2 ... > > ...` (or
 *   `XREAD ... STREAMS k1 k2 ... id1 id2 ...` for broadcast streams) on the
 *   reader's blocking connection;
 * - streams with a backlog, and a group's streams re-reading their own
 *   pending entries, are read together too (see {@link planReads}): on the
 *   blocking connection while no stream waits there (the read returns at
 *   once while entries are there), otherwise without BLOCK on the command
 *   connection.
 *
 * Each read reserves, per stream, as many handler slots as its COUNT before
 * it is sent, and COUNT never exceeds any of its streams' free slots, so no
 * stream ever has more than `concurrency` entries read and unsettled. A
 * stream whose slots are all taken is left out; when it can be read again
 * while the blocking read waits without it, the blocking read is woken
 * (CLIENT UNBLOCK) so that the next one includes it.
 *
 * A read's error that names no stream (a key deleted, a group destroyed, a
 * key of another type) is pinned on one by a harmless read of each stream
 * alone; only that stream repairs or stops, the others read on.
 */
export class SharedReader<M extends ReadMember> {
  private readonly readers: M[] = [];
  private readonly reads: BlockingRead;
  private readonly stopping = new AbortController();
  private readonly pulse = new Pulse();
  private readonly arrivals: Array<Arrival<M>> = [];
  /** The streams of the read on the blocking connection, if one is on the wire there. */
  private blocked: ReadonlyArray<Member<M>> | undefined;
  private isUnblocking = false;
  private fetching = 0;
  /** Where the next plan starts looking (see {@link plan}). */
  private firstToPlan = 0;
  private isPreparing = false;
  private failures = 0;
  /** Set while the reader backs off after a failure; its timer ends the pause. */
  private pauseTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: SharedReaderDeps) {
    const { logPrefix, as, blockMs, blocking, logger } = deps;
    this.reads = new BlockingRead({ logPrefix, as, blockMs, blocking, logger });
  }

  /** `Streams "a", "b" group "g":`, the start of the log lines about these reads. */
  get logPrefix(): string {
    return this.deps.logPrefix;
  }

  /** The streams read here, in the order they were added. */
  protected get members(): readonly M[] {
    return this.readers;
  }

  /** Adds a stream; it is read once {@link start} runs. */
  add(reader: M): void {
    this.readers.push(reader);
  }

  /** Starts the loop and its streams; it runs until {@link stop}. */
  start(): void {
    if (this.loop !== undefined) return;
    for (const reader of this.readers) reader.start(() => this.pulse.fire());
    this.loop = this.run();
  }

  /**
   * Ends the blocking read early so that the slots it holds come back (or
   * the ids it reads from can change).
   */
  interrupt(): void {
    this.reads.interrupt();
  }

  /** Whether `reader` is in the read that waits on the blocking connection now. */
  protected isBlockedOn(reader: M): boolean {
    return this.blocked?.some((member) => member.reader === reader) ?? false;
  }

  /** One of its streams stopped for good: reads go on without it. */
  forget(reader: M): void {
    if (this.isBlockedOn(reader)) this.reads.interrupt();
    this.pulse.fire();
  }

  /** Stops reading, interrupting the blocking read, and waits for the reads on the wire and the loop to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.pauseTimer);
    for (const reader of this.readers) reader.abort();
    this.pulse.fire();
    await this.reads.stop();
    await this.loop;
  }

  protected get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    // A read already sent is always finished, even when stopping: a group's
    // entries are delivered to this consumer and must be handled.
    for (;;) {
      const arrived = this.arrivals.splice(0);
      const entries: ReadEntries[][] = [];
      for (const arrival of arrived) entries.push(this.settle(arrival));
      // The next reads go out before this batch is handled, as far as free
      // slots allow: they travel while the handlers run.
      if (!this.isStopping) this.plan();
      for (let i = 0; i < arrived.length; i += 1) {
        const { members } = arrived[i]!;
        for (let j = 0; j < members.length; j += 1) members[j]!.reader.deliver(entries[i]![j]!);
      }
      if (this.isStopping && this.blocked === undefined && this.fetching === 0 && this.arrivals.length === 0) return;
      await this.pulse.wait();
    }
  }

  /** Bookkeeping of a read that came back: its slots, its streams' state; returns each member's entries. */
  private settle(arrival: Arrival<M>): ReadEntries[] {
    if (arrival.isBlocking) {
      this.blocked = undefined;
      this.isUnblocking = false;
    } else {
      this.fetching -= 1;
    }
    const { members, reply, error } = arrival;
    if (error !== undefined) {
      this.failed(members, error);
      return members.map(() => []);
    }
    this.failures = 0;
    if (members.length === 1) {
      const [member] = members as [Member<M>];
      // A read of one stream answers for that stream only (its name may carry a keyPrefix).
      const entries = reply?.[0]?.[1] ?? [];
      member.reader.settle(member.reserved, entries);
      return [entries];
    }
    const byStream = new Map<string, ReadEntries>();
    // Redis names each stream as stored, with a keyPrefix on it.
    for (const [key, entries] of reply ?? []) byStream.set(streamNameOf(this.deps.commands, key), entries);
    return members.map((member) => {
      const entries = byStream.get(member.reader.stream) ?? [];
      member.reader.settle(member.reserved, entries);
      return entries;
    });
  }

  /** Sends what can be read now (see the class comment). */
  private plan(): void {
    if (this.pauseTimer !== undefined) return;
    if (this.readers.length === 1) {
      this.planOne(this.readers[0]!);
      return;
    }
    const candidates: M[] = [];
    const { readers } = this;
    // From where the last plan stopped, so that every stream gets its turn.
    for (let i = 0; i < readers.length; i += 1) {
      const reader = readers[(this.firstToPlan + i) % readers.length]!;
      if (reader.canRead) candidates.push(reader);
      else reader.parkIfFull();
    }
    if (candidates.length === 0) return;
    const plan = planReads(candidates, this.deps.readCount);
    if (plan.firstLeftOut !== undefined) this.firstToPlan = readers.indexOf(candidates[plan.firstLeftOut]!);
    const fetches = plan.fetches.map((fetch) => pick(candidates, fetch));
    if (plan.wait === undefined) {
      // Nothing waits for new entries: a free blocking connection takes the
      // biggest backlog read, blocking (it returns at once while entries are
      // there). Measured at concurrency 10: 0.97-0.99× the hand-written loop
      // there, 0.83× with every backlog read on the command connection.
      const first = this.blocked === undefined && this.reads.isReady ? fetches.shift() : undefined;
      if (first !== undefined) this.onBlockingConnection(first);
      for (const fetch of fetches) this.fetch(fetch);
      return;
    }
    for (const fetch of fetches) this.fetch(fetch);
    if (this.blocked !== undefined) {
      // Streams that could join wait behind a read that left them out: wake it.
      if (!this.isUnblocking) {
        this.isUnblocking = true;
        this.reads.interrupt();
      }
    } else if (this.reads.isReady) {
      this.onBlockingConnection(pick(candidates, plan.wait));
    } else {
      this.prepare();
    }
  }

  /**
   * {@link plan} for a reader of one stream, the usual case: the plan
   * {@link planReads} makes for one candidate, without its bookkeeping. A
   * stream with a backlog is read on the blocking connection when that is
   * free, otherwise on the command connection; a stream that caught up waits
   * on the blocking connection. Both ask for all its free slots, up to
   * `readCount`. Kept apart so that the code run at every read stays small:
   * after a change of load (100 requests in flight, then 1,000 a second), V8
   * recompiled the general plan twice, about 20 ms each time, on the cores
   * the handlers and Redis share.
   */
  private planOne(reader: M): void {
    if (!reader.canRead) {
      reader.parkIfFull();
      return;
    }
    const count = Math.min(reader.free, this.deps.readCount);
    if (count < 1) return;
    const picked: Picked<M> = { readers: [reader], count };
    if (!reader.isCaughtUp) {
      if (this.blocked === undefined && this.reads.isReady) this.onBlockingConnection(picked);
      else this.fetch(picked);
      return;
    }
    if (this.blocked !== undefined) {
      if (!this.isUnblocking) {
        this.isUnblocking = true;
        this.reads.interrupt();
      }
    } else if (this.reads.isReady) {
      this.onBlockingConnection(picked);
    } else {
      this.prepare();
    }
  }

  /** Reserves the slots of a read about to be sent; returns its members and request. */
  private reserve({ readers, count }: Picked<M>) {
    const members = readers.map((reader) => {
      reader.reserve(count);
      return { reader, reserved: count };
    });
    const streams = readers.map((reader) => reader.stream);
    const ids = readers.map((reader) => reader.cursor);
    return { members, request: { streams, ids, count } };
  }

  /** A read that does not block, on the command connection. */
  private fetch(picked: Picked<M>): void {
    const { members, request } = this.reserve(picked);
    const reply = sendRead(this.deps.commands, this.deps.as, request);
    this.fetching += 1;
    this.await(reply, members, false);
  }

  /** A read on the blocking connection: the one that waits for new entries, or a backlog's while nothing waits. */
  private onBlockingConnection(picked: Picked<M>): void {
    const { members, request } = this.reserve(picked);
    const reply = this.reads.read(request);
    this.blocked = members;
    this.await(reply, members, true);
  }

  private await(reply: Promise<ReadReply>, members: ReadonlyArray<Member<M>>, isBlocking: boolean): void {
    reply.then(
      (value) => this.arrive({ members, isBlocking, reply: value }),
      (error: unknown) => this.arrive({ members, isBlocking, error }),
    );
  }

  private arrive(arrival: Arrival<M>): void {
    this.arrivals.push(arrival);
    this.pulse.fire();
  }

  /** Wakes the loop, for a stream that may be read again or read from elsewhere. */
  protected wake(): void {
    this.pulse.fire();
  }

  /** Waits until a blocking read can be sent (connected, client id known), then plans again. */
  private prepare(): void {
    if (this.isPreparing) return;
    this.isPreparing = true;
    this.reads
      .prepare()
      .catch((error: unknown) => this.backOff(error))
      .finally(() => {
        this.isPreparing = false;
        this.pulse.fire();
      });
  }

  /**
   * A read failed. A lost connection or an error of the whole read backs the
   * reader off; an error that may concern one stream goes to that stream,
   * found by a check of each when the read had several.
   */
  private failed(members: ReadonlyArray<Member<M>>, error: unknown): void {
    const isAboutAStream = isGroupGone(error) || isConfigurationError(error);
    if (members.length === 1 && !(error instanceof ConnectionLostError)) {
      members[0]!.reader.readFailed(members[0]!.reserved, error);
      return;
    }
    for (const member of members) member.reader.readFailed(member.reserved);
    if (!isAboutAStream || this.isStopping) {
      this.backOff(error);
      return;
    }
    const readers = members.map((member) => member.reader);
    for (const reader of readers) reader.check();
    void this.pinOn(readers, error);
  }

  /** Finds which of `readers` a shared read's error was about, and has each carry out its verdict. */
  private async pinOn(readers: readonly M[], error: unknown): Promise<void> {
    let verdicts: unknown[];
    try {
      verdicts = await errorsOfEach(
        this.deps.commands,
        this.deps.as,
        readers.map((reader) => reader.stream),
      );
    } catch (checkError) {
      this.deps.logger.warn(`${this.logPrefix} could not check the streams of a failed read (${describeError(checkError)}).`);
      verdicts = [];
    }
    if (!verdicts.some((verdict) => verdict !== undefined)) this.backOff(error);
    readers.forEach((reader, i) => reader.checked(verdicts[i]));
    this.pulse.fire();
  }

  /** Pauses every read, longer after each failure in a row, and says so. */
  private backOff(error: unknown): void {
    if (this.isStopping) return;
    this.failures += 1;
    const delayMs = reconnectDelayMs(this.failures);
    if (error instanceof ConnectionLostError) {
      this.deps.logger.warn(`${this.logPrefix} the reader's connection dropped (${error.message}); reading again once it is back.`);
    } else {
      this.deps.logger.warn(`${this.logPrefix} read failed (${describeError(error)}); retrying in ${delayMs} ms.`);
    }
    clearTimeout(this.pauseTimer);
    // The timer itself ends the pause: comparing clocks could find it a
    // millisecond early and plan nothing, with no later wake-up.
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.pulse.fire();
    }, delayMs);
  }
}

/** Candidates picked by a planned read, and its COUNT. */
interface Picked<M> {
  readonly readers: M[];
  readonly count: number;
}

function pick<M>(candidates: readonly M[], read: PlannedRead): Picked<M> {
  return { readers: read.members.map((index) => candidates[index]!), count: read.count };
}

/** The start of log lines about a read of `streams`: `Streams "a", "b" and 3 more` (the caller adds the rest). */
export function namedStreams(streams: readonly string[]): string {
  const named = streams.slice(0, 3).map((s) => `"${s}"`);
  const more = streams.length > 3 ? ` and ${streams.length - 3} more` : '';
  return `Stream${streams.length === 1 ? '' : 's'} ${named.join(', ')}${more}`;
}
