import type { ConsumerDeserializer } from '@nestjs/microservices';
import {
  decodeFlat,
  fromBytes,
  mayHaveLostBytes,
  type DecodedEntry,
  type FieldValue,
  type RequestAddress,
  type StreamFields,
} from '../../codec/stream-codec.js';
import { argoEventOf, type ArgoEventOrigin } from '../../codec/argo-events-envelope.js';
import type { HandlerInvoker } from '../../context/handler-invoker.js';
import { RedisStreamsContext, type EntryControl } from '../../context/redis-streams.context.js';
import { describeDeserializerError, deserializePacket } from '../../delivery/deserialize.js';
import { describeError } from '../../errors/describe-error.js';
import { HandlerTimeoutError } from '../../errors/handler-timeout.error.js';
import type { Acker } from './acker.js';
import { makeClaimableAfter } from './claim-schedule.js';
import { moveToDeadLetter } from './dead-letter.js';
import { followHandler } from '../../delivery/handler-result.js';
import { judgeDelivery, judgeFailure, retryDelayMs, checkRetryDelay } from '../../delivery/failure-policy.js';
import { InFlightEntry, InFlightList } from '../../delivery/in-flight.js';
import type { StreamScope } from './stream-scope.js';
import type { DeliveryTrace, SettleDetail, SettleOutcome } from '../../telemetry/telemetry.js';

export type { HandlerInvoker } from '../../context/handler-invoker.js';

/** What an entry processor needs besides its stream's scope; one per stream. */
export interface EntryProcessorDeps {
  readonly pattern: string;
  readonly acker: Acker;
  readonly invoke: HandlerInvoker;
  readonly deserializer: ConsumerDeserializer | undefined;
  /** Set when the handler receives the argo-events event of each entry instead of its payload. */
  readonly argoEvents?: ArgoEventOrigin;
}

/** Per-run view of the processor's dependencies, shared by every run. */
interface EntryRunDeps extends EntryProcessorDeps {
  readonly scope: StreamScope;
  readonly inFlight: InFlightList;
}

/**
 * Takes one delivered entry from decoding to its settlement: acknowledged,
 * scheduled for retry, or dead-lettered. The caller holds a slot for it; the
 * slot is released once the entry is settled.
 */
export class EntryProcessor {
  /** Entries being handled now, with the time their lease was last renewed. */
  readonly inFlight = new InFlightList();

  private readonly runDeps: EntryRunDeps;

  constructor(scope: StreamScope, deps: EntryProcessorDeps) {
    this.runDeps = { ...deps, scope, inFlight: this.inFlight };
  }

  /**
   * Handles an entry in the background.
   *
   * @param flat - the entry's flat field list
   * @param deliveries - Redis' delivery counter, including this delivery
   * @param receivedAt - when the entry was read (epoch ms); one clock read per batch is enough
   * @param reclaimedFrom - the consumer it was claimed from, when it was another's
   */
  process(id: string, flat: readonly FieldValue[], deliveries: number, receivedAt = Date.now(), reclaimedFrom?: string): void {
    const run = new EntryRun(this.runDeps, id, flat, deliveries, receivedAt, reclaimedFrom);
    this.inFlight.add(run);
    run.start();
  }
}

/**
 * One delivery of one entry; settles exactly once. The common path (decode,
 * call the handler, ack) runs without an async function or an await of its
 * own: per entry, only the handler's promise and one `then` on it.
 */
class EntryRun extends InFlightEntry implements EntryControl {
  private isSettled = false;
  private isFinished = false;
  private originalError: unknown;
  /** Made on first use: most handlers never look at their signal. */
  private aborter: AbortController | undefined;
  /** The handler's time limit (`handlerTimeoutMs`), while it runs. */
  private timer: NodeJS.Timeout | undefined;
  /** Whether {@link flat} is known to hold the entry's exact bytes. */
  private isExact = false;
  /** The delivery's span and start, while telemetry observes it. */
  private trace: DeliveryTrace | undefined;
  private isObserved = false;

  constructor(
    private readonly deps: EntryRunDeps,
    id: string,
    private flat: readonly FieldValue[],
    private readonly deliveries: number,
    receivedAt: number,
    private readonly reclaimedFrom: string | undefined,
  ) {
    super(id, receivedAt);
  }

  /** Handles the entry, then frees its slot; never throws or rejects. */
  start(): void {
    const { scope, deserializer } = this.deps;
    if (!this.isExact && mayHaveLostBytes(this.flat)) {
      this.readBytes();
      return;
    }
    const exhausted = judgeDelivery(this.deliveries, scope.options);
    if (exhausted !== undefined) {
      this.finishAfter(this.sendToDeadLetter(exhausted.reason, 'max_deliveries'));
      return;
    }
    const { argoEvents } = this.deps;
    // An envelope copies the fields as read: nothing to decode, nothing undecodable.
    const decoded: DecodedEntry =
      argoEvents === undefined
        ? decodeFlat(this.flat)
        : { kind: 'envelope', data: argoEventOf(argoEvents, this.id, this.flat, this.renewedAt), metadata: undefined };
    if (decoded.kind === 'undecodable') {
      this.finishAfter(this.sendToDeadLetter(`undecodable: ${decoded.reason}`, 'undecodable'));
      return;
    }
    const fields = decoded.kind === 'fields' ? decoded.data : undefined;
    const metadata = decoded.kind === 'envelope' ? decoded.metadata : undefined;
    const request = decoded.kind === 'envelope' ? decoded.request : undefined;
    if (deserializer === undefined) {
      this.invoke(decoded.data, fields, metadata, request);
      return;
    }
    deserializePacket(deserializer, this.deps.pattern, scope.stream, decoded.data, metadata).then(
      (data) => this.invoke(data, fields, metadata, request),
      (error: unknown) =>
        this.finishAfter(this.sendToDeadLetter(`undecodable: deserializer failed (${describeDeserializerError(error)})`, 'undecodable')),
    );
  }

  /**
   * Reads the entry again as bytes, because its text form may have lost some
   * (see {@link mayHaveLostBytes}), then starts over with the exact fields.
   * Rare: only entries holding bytes that are not UTF-8, or a real U+FFFD.
   */
  private readBytes(): void {
    const { commands, stream, logger, logPrefix } = this.deps.scope;
    commands.xrangeBuffer(stream, this.id, this.id).then(
      (rows) => {
        const row = rows[0];
        if (row === undefined) {
          logger.warn(`${logPrefix} pending entry ${this.id} was deleted or trimmed; removing it from the pending list.`);
          this.settle();
          this.deps.acker.ack(this.id);
          this.observe('deleted');
          this.finish();
          return;
        }
        this.flat = fromBytes(row[1]);
        this.isExact = true;
        this.start();
      },
      (error: unknown) => {
        logger.warn(
          `${logPrefix} could not read entry ${this.id} as bytes (${describeError(error)}); it stays pending and is delivered again after claimIdleMs.`,
        );
        this.deps.scope.claimableIn(this.deps.scope.options.claimIdleMs);
        this.finish();
      },
    );
  }

  private invoke(
    data: unknown,
    fields: StreamFields | undefined,
    metadata: Record<string, unknown> | undefined,
    request: RequestAddress | undefined,
  ): void {
    const { stream, group, consumer } = this.deps.scope;
    const context = new RedisStreamsContext([
      stream,
      this.id,
      this.flat,
      group,
      consumer,
      this.deliveries,
      this,
      fields,
      this.deps.pattern,
      metadata,
    ]);
    // A request has its caller's deadline instead, and is answered, not retried.
    const { handlerTimeoutMs } = this.deps.scope.options;
    if (handlerTimeoutMs > 0 && request === undefined) this.timer = setTimeout(() => this.timedOut(handlerTimeoutMs), handlerTimeoutMs);
    const { telemetry } = this.deps.scope;
    if (telemetry.isOn) this.trace = telemetry.begin(this.id, this.deliveries, metadata, this.reclaimedFrom);
    let outcome: Promise<unknown>;
    try {
      // Inside the delivery's span, so that the handler's own spans nest in it.
      outcome =
        this.trace === undefined
          ? this.deps.invoke(data, context, request)
          : telemetry.within(this.trace, this.deps.invoke, data, context, request);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (request !== undefined) {
      // The invoker answered: its last reply's write may have acknowledged the entry already.
      outcome.then(
        (acked) => (acked === true ? this.ackedWithReply() : this.succeed()),
        (error: unknown) => this.fail(error),
      );
      return;
    }
    followHandler(
      outcome,
      () => this.succeed(),
      (error: unknown) => this.fail(error),
    );
  }

  /** A request whose last reply and acknowledgement went in one script: settled, nothing left to send. */
  private ackedWithReply(): void {
    if (!this.isSettled) {
      this.settle();
      this.observe('ack');
    }
    this.finish();
  }

  private succeed(): void {
    if (!this.isSettled) {
      this.settle();
      this.deps.acker.ack(this.id);
      this.observe('ack');
    }
    this.finish();
  }

  /** Ends the delivery's telemetry (span, duration, outcome), once. */
  private observe(outcome: SettleOutcome, failure?: unknown, detail?: SettleDetail): void {
    const { telemetry } = this.deps.scope;
    if (!telemetry.isOn || this.isObserved) return;
    this.isObserved = true;
    // Settled before its handler ran (a dead letter, a deleted entry): observed now.
    const trace = this.trace ?? telemetry.begin(this.id, this.deliveries, undefined, this.reclaimedFrom);
    this.trace = undefined;
    telemetry.settle(trace, outcome, failure, detail);
  }

  /**
   * The handler's own calls (ctx.ack(), retry(), deadLetter()) run their
   * commands outside its trace context; called only with telemetry on, so
   * that no closure is made per entry without it.
   */
  private detached<R>(fn: () => R): R {
    return this.deps.scope.telemetry.detached(fn);
  }

  /** The server released the entry at shutdown, its handler still running. */
  override released(): void {
    this.observe('released');
  }

  private fail(error: unknown): void {
    this.finishAfter(this.onFailure(error));
  }

  private finishAfter(settlement: Promise<void>): void {
    settlement.then(
      () => this.finish(),
      (error: unknown) => {
        // Settlement logs its own failures; anything reaching here is a bug,
        // and the entry stays pending for a later delivery.
        this.deps.scope.logger.error(`${this.deps.scope.logPrefix} entry ${this.id} could not be settled (${describeError(error)}).`);
        this.finish();
      },
    );
  }

  /** Frees the entry's slot; an entry left unsettled stops renewing its lease. */
  private finish(): void {
    // Once: a handler that outlived its time limit finishes again when it returns.
    if (this.isFinished) return;
    this.isFinished = true;
    clearTimeout(this.timer);
    this.deps.inFlight.remove(this);
    this.deps.scope.slots.release();
  }

  /** The handler ran past `handlerTimeoutMs`: its signal aborts and the delivery fails (retry or dead letter). */
  private timedOut(timeoutMs: number): void {
    this.timer = undefined;
    if (this.isSettled) return;
    const error = new HandlerTimeoutError(this.deps.scope.stream, this.id, timeoutMs);
    this.abort(error);
    this.fail(error);
  }

  get signal(): AbortSignal {
    this.aborter ??= new AbortController();
    return this.aborter.signal;
  }

  /** Aborts the handler's signal: its time limit passed, or the server released the entry at shutdown. */
  override abort(reason: Error): void {
    this.aborter ??= new AbortController();
    this.aborter.abort(reason);
  }

  /**
   * The entry is pending on someone else now (see LeaseLostError): settled
   * without a Redis call (no ack, retry or dead letter of an entry another
   * consumer owns), its signal aborted, its slot freed; the handler's outcome,
   * whenever it comes, is ignored.
   */
  override loseLease(reason: Error): void {
    if (this.isSettled) return;
    this.settle();
    this.abort(reason);
    this.deps.scope.logger.warn(`${this.deps.scope.logPrefix} ${reason.message}`);
    this.observe('lease_lost');
    this.finish();
  }

  /** Marks the entry settled and stops renewing its lease, before any Redis call about it. */
  private settle(): void {
    this.isSettled = true;
    this.deps.inFlight.remove(this);
  }

  ack(): Promise<void> {
    if (this.isSettled) return Promise.resolve();
    this.settle();
    this.observe('ack');
    return this.deps.scope.telemetry.isOn
      ? this.detached(() => this.deps.acker.ackConfirmed(this.id))
      : this.deps.acker.ackConfirmed(this.id);
  }

  async retry(delayMs?: number): Promise<void> {
    checkRetryDelay(delayMs);
    const delay = retryDelayMs(this.deliveries, delayMs, this.deps.scope.options);
    await (this.deps.scope.telemetry.isOn
      ? this.detached(() => this.scheduleRetry(delay, undefined))
      : this.scheduleRetry(delay, undefined));
  }

  /** Leaves the entry pending, claimable by the group after `delayMs`. */
  private async scheduleRetry(delayMs: number, failure: unknown): Promise<void> {
    if (this.isSettled) return;
    this.settle();
    this.observe('retry', failure, { delayMs });
    const { scope } = this.deps;
    try {
      await makeClaimableAfter(scope, [this.id], delayMs);
      scope.claimableIn(delayMs);
    } catch (error) {
      scope.logger.warn(
        `${scope.logPrefix} could not schedule entry ${this.id} for retry (${describeError(error)}); it stays pending on this consumer and will be reclaimed after claimIdleMs.`,
      );
      scope.claimableIn(scope.options.claimIdleMs);
    }
  }

  deadLetter(reason: string): Promise<void> {
    return this.deps.scope.telemetry.isOn
      ? this.detached(() => this.sendToDeadLetter(reason, undefined))
      : this.sendToDeadLetter(reason, undefined);
  }

  /** @param failure - what failed (an error, or our reason's kind), for telemetry */
  private async sendToDeadLetter(reason: string, failure: unknown): Promise<void> {
    if (this.isSettled) return;
    this.settle();
    const { stream, group, consumer, options, scripts, logger, logPrefix } = this.deps.scope;
    const target = options.deadLetterStream(stream);
    this.observe('dead_letter', failure, { target, reason });
    try {
      const deadId = await moveToDeadLetter(scripts, target, options.deadLetterMaxLen, {
        stream,
        id: this.id,
        group,
        consumer,
        deliveries: this.deliveries,
        error: reason,
        fields: this.flat,
      });
      logger.error(
        `${logPrefix} entry ${this.id} moved to dead-letter stream "${target}" as ${deadId} after ${this.deliveries} deliver${this.deliveries === 1 ? 'y' : 'ies'}: ${reason}`,
      );
    } catch (error) {
      logger.error(
        `${logPrefix} could not dead-letter entry ${this.id} to "${target}" (${describeError(error)}); it stays pending and will be tried again. Check that "${target}" is a stream.`,
      );
      this.deps.scope.claimableIn(options.claimIdleMs);
    }
  }

  recordError(error: unknown): void {
    this.originalError = error;
  }

  private async onFailure(error: unknown): Promise<void> {
    if (this.isSettled) return;
    const { options, logger, logPrefix } = this.deps.scope;
    const verdict = judgeFailure(this.deliveries, { error, recordedError: this.originalError }, options);
    const failure = this.originalError ?? error;
    if (verdict.action === 'dead-letter') {
      await this.sendToDeadLetter(verdict.reason, failure);
      return;
    }
    logger.warn(
      `${logPrefix} entry ${this.id} failed on delivery ${this.deliveries} of ${options.maxDeliveries} (${verdict.reason}); retrying in ${verdict.delayMs} ms.`,
    );
    await this.scheduleRetry(verdict.delayMs, failure);
  }
}
