import { randomBytes } from 'node:crypto';
import type { ConsumerDeserializer } from '@nestjs/microservices';
import { LIST_DEAD_LETTER_ID } from '../../constants.js';
import { deadLetterFields, listEntryFields } from '../../codec/dead-letter-record.js';
import { decodeListEntry, readStoredEntry, wrapForRetry } from '../../codec/list-codec.js';
import { RedisListContext } from '../../context/redis-list.context.js';
import type { EntryControl } from '../../context/redis-streams.context.js';
import { describeError } from '../../errors/describe-error.js';
import { HandlerTimeoutError } from '../../errors/handler-timeout.error.js';
import { describeDeserializerError, deserializePacket } from '../../delivery/deserialize.js';
import { judgeDelivery, judgeFailure, retryDelayMs, checkRetryDelay } from '../../delivery/failure-policy.js';
import { awaitHandlerResult } from '../../delivery/handler-result.js';
import type { ListAcker } from './list-acker.js';
import type { ListScope } from './list-scope.js';
import type { DeliveryTrace, SettleDetail, SettleOutcome } from '../../telemetry/telemetry.js';

/** Runs the bound Nest handler for a decoded list entry; resolves or rejects with its outcome. */
export type ListHandlerInvoker = (data: unknown, context: RedisListContext) => Promise<unknown>;

/** What every run of a list's entries shares. */
export interface ListRunDeps {
  readonly scope: ListScope;
  readonly pattern: string;
  readonly acker: ListAcker;
  readonly invoke: ListHandlerInvoker;
  readonly deserializer: ConsumerDeserializer | undefined;
  /** Aborted when close() stops waiting for running handlers. */
  readonly signal: AbortSignal;
  /** A retry was handed back, due in `delayMs`: the keeper moves it to the list then. */
  readonly retryDueIn: (delayMs: number) => void;
  /** Aborted once the worker has finished (close()): settlements to try again are dropped. */
  readonly closed: AbortSignal;
  /** The runs whose handlers run now (until they finish), for a lost liveness key. */
  readonly running: Set<ListEntryRun>;
}

/** Hand-back ids: unique per process and hand-back, without a `:` (see wrapForRetry). */
const RUN_PREFIX = randomBytes(6).toString('hex');
let handBacks = 0;

/**
 * One delivery of one list entry, from decoding to its settlement: removed
 * from the processing list, handed back for a retry, or dead-lettered. The
 * caller holds a slot for it; it is released once the entry is settled.
 */
export class ListEntryRun implements EntryControl {
  private isSettled = false;
  private isFinished = false;
  /** This entry's own abort (its time limit), made on first use; the worker's shutdown signal aborts it too. */
  private aborter: AbortController | undefined;
  private combined: AbortSignal | undefined;
  /** The handler's time limit (`handlerTimeoutMs`), while it runs. */
  private timer: NodeJS.Timeout | undefined;
  private originalError: unknown;
  private readonly entry: Buffer;
  /** Deliveries including this one. */
  private readonly deliveries: number;
  /** The delivery's span and start, while telemetry observes it. */
  private trace: DeliveryTrace | undefined;
  private isObserved = false;

  /**
   * @param stored - the value exactly as it is in the processing list (what LREM must match)
   */
  constructor(
    private readonly deps: ListRunDeps,
    /** The value exactly as it is in the processing list. */
    readonly stored: Buffer,
  ) {
    const { deliveries, entry } = readStoredEntry(stored);
    this.entry = entry;
    this.deliveries = deliveries + 1;
  }

  /** Handles the entry, then frees its slot; never throws or rejects. */
  start(): void {
    const { scope, deserializer, pattern } = this.deps;
    this.deps.running.add(this);
    const exhausted = judgeDelivery(this.deliveries, scope.options);
    if (exhausted !== undefined) {
      this.finishAfter(this.sendToDeadLetter(exhausted.reason, 'max_deliveries'));
      return;
    }
    const decoded = decodeListEntry(this.entry);
    if (decoded.kind === 'undecodable') {
      this.finishAfter(this.sendToDeadLetter(`undecodable: ${decoded.reason}`, 'undecodable'));
      return;
    }
    const metadata = decoded.kind === 'envelope' ? decoded.metadata : undefined;
    if (deserializer === undefined) {
      this.invoke(decoded.data, metadata);
      return;
    }
    deserializePacket(deserializer, pattern, scope.list, decoded.data, metadata).then(
      (data) => this.invoke(data, metadata),
      (error: unknown) =>
        this.finishAfter(this.sendToDeadLetter(`undecodable: deserializer failed (${describeDeserializerError(error)})`, 'undecodable')),
    );
  }

  private invoke(data: unknown, metadata: Record<string, unknown> | undefined): void {
    const { scope, pattern } = this.deps;
    const context = new RedisListContext({
      list: scope.list,
      entry: this.entry,
      group: scope.group,
      consumer: scope.consumer,
      deliveries: this.deliveries,
      control: this,
      pattern,
      metadata,
    });
    const { handlerTimeoutMs } = this.deps.scope.options;
    if (handlerTimeoutMs > 0) this.timer = setTimeout(() => this.timedOut(handlerTimeoutMs), handlerTimeoutMs);
    const { telemetry } = scope;
    if (telemetry.isOn) this.trace = telemetry.begin(undefined, this.deliveries, metadata);
    let outcome: Promise<unknown>;
    try {
      // Inside the delivery's span, so that the handler's own spans nest in it.
      outcome = this.trace === undefined ? this.deps.invoke(data, context) : telemetry.within(this.trace, this.deps.invoke, data, context);
    } catch (error) {
      this.fail(error);
      return;
    }
    outcome.then(
      (result) => {
        const completion = awaitHandlerResult(result);
        if (completion === undefined) this.succeed();
        else
          completion.then(
            () => this.succeed(),
            (error: unknown) => this.fail(error),
          );
      },
      (error: unknown) => this.fail(error),
    );
  }

  private succeed(): void {
    if (!this.isSettled) {
      this.isSettled = true;
      this.deps.acker.ack(this.stored);
      this.observe('ack');
    }
    this.finish();
  }

  /** Ends the delivery's telemetry (span, duration, outcome), once. */
  private observe(outcome: SettleOutcome, failure?: unknown, detail?: SettleDetail): void {
    const { telemetry } = this.deps.scope;
    if (!telemetry.isOn || this.isObserved) return;
    this.isObserved = true;
    // Settled before its handler ran (a dead letter): observed now.
    const trace = this.trace ?? telemetry.begin(undefined, this.deliveries, undefined);
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

  private fail(error: unknown): void {
    this.finishAfter(this.onFailure(error));
  }

  private finishAfter(settlement: Promise<void>): void {
    settlement.then(
      () => this.finish(),
      (error: unknown) => {
        const { logger, logPrefix } = this.deps.scope;
        logger.error(`${logPrefix} an entry could not be settled (${describeError(error)}); it stays in the processing list.`);
        this.finish();
      },
    );
  }

  private finish(): void {
    // Once: a handler that outlived its time limit finishes again when it returns.
    if (this.isFinished) return;
    this.isFinished = true;
    clearTimeout(this.timer);
    this.deps.running.delete(this);
    this.deps.scope.slots.release();
  }

  /**
   * Another consumer recovered this entry (see LeaseLostError): settled
   * without a Redis call (no removal, hand-back or dead letter of an entry
   * that is someone else's now), its signal aborted, its slot freed; the
   * handler's outcome, whenever it comes, is ignored.
   */
  loseLease(reason: Error): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.aborter ??= new AbortController();
    this.aborter.abort(reason);
    this.deps.scope.logger.warn(`${this.deps.scope.logPrefix} ${reason.message}`);
    this.observe('lease_lost');
    this.finish();
  }

  /** The handler ran past `handlerTimeoutMs`: its signal aborts and the delivery fails (handed back, or dead letter). */
  private timedOut(timeoutMs: number): void {
    this.timer = undefined;
    if (this.isSettled) return;
    const error = new HandlerTimeoutError(this.deps.scope.list, undefined, timeoutMs);
    this.aborter ??= new AbortController();
    this.aborter.abort(error);
    this.fail(error);
  }

  ack(): Promise<void> {
    if (this.isSettled) return Promise.resolve();
    this.isSettled = true;
    this.observe('ack');
    return this.deps.scope.telemetry.isOn
      ? this.detached(() => this.deps.acker.ackConfirmed(this.stored))
      : this.deps.acker.ackConfirmed(this.stored);
  }

  /** Aborted when its time limit passes, or when close() stops waiting for running handlers (the worker's shutdown signal). */
  get signal(): AbortSignal {
    this.aborter ??= new AbortController();
    this.combined ??= AbortSignal.any([this.deps.signal, this.aborter.signal]);
    return this.combined;
  }

  async retry(delayMs?: number): Promise<void> {
    checkRetryDelay(delayMs);
    const delay = retryDelayMs(this.deliveries, delayMs, this.deps.scope.options);
    await (this.deps.scope.telemetry.isOn ? this.detached(() => this.handBack(delay, undefined)) : this.handBack(delay, undefined));
  }

  /** Hands the entry back, due in `delayMs`, with this delivery counted. */
  private async handBack(delayMs: number, failure: unknown): Promise<void> {
    if (this.isSettled) return;
    this.isSettled = true;
    this.observe('retry', failure, { delayMs });
    handBacks += 1;
    const wrapped = wrapForRetry(this.deliveries, `${RUN_PREFIX}${handBacks.toString(36)}`, this.entry);
    await this.sendHandBack(delayMs, wrapped);
  }

  private async sendHandBack(delayMs: number, wrapped: Buffer): Promise<void> {
    const { scope, retryDueIn } = this.deps;
    try {
      const removed = await scope.scripts.retry(scope.keys.processing, scope.keys.retry, this.stored, delayMs, wrapped);
      if (removed === 0) {
        scope.logger.warn(
          `${scope.logPrefix} an entry handed back for retry was no longer in the processing list (recovered by another consumer meanwhile?); handed back anyway, so it may be handled twice.`,
        );
      }
      retryDueIn(delayMs);
    } catch (error) {
      scope.logger.warn(
        `${scope.logPrefix} could not hand an entry back for retry (${describeError(error)}); it stays in processing list "${scope.keys.processing}", handed back again in claimIdleMs (${scope.options.claimIdleMs} ms).`,
      );
      this.later(() => this.sendHandBack(delayMs, wrapped));
    }
  }

  /**
   * Tries a failed settlement again after `claimIdleMs` (the time a stream
   * entry waits to be claimed again), without holding a slot; the entry waits
   * in the processing list meanwhile. Given up on close: the entry is then
   * recovered when the consumer restarts or its liveness key expires.
   */
  private later(settle: () => Promise<void>): void {
    const { closed, scope } = this.deps;
    if (closed.aborted) return;
    const timer = setTimeout(() => {
      closed.removeEventListener('abort', cancel);
      void settle();
    }, scope.options.claimIdleMs);
    const cancel = (): void => clearTimeout(timer);
    closed.addEventListener('abort', cancel, { once: true });
  }

  deadLetter(reason: string): Promise<void> {
    return this.deps.scope.telemetry.isOn
      ? this.detached(() => this.sendToDeadLetter(reason, undefined))
      : this.sendToDeadLetter(reason, undefined);
  }

  /** @param failure - what failed (an error, or our reason's kind), for telemetry */
  private async sendToDeadLetter(reason: string, failure: unknown): Promise<void> {
    if (this.isSettled) return;
    this.isSettled = true;
    this.observe('dead_letter', failure, { target: this.deps.scope.deadLetterStream, reason });
    await this.sendDeadLetter(reason);
  }

  private async sendDeadLetter(reason: string): Promise<void> {
    const { list, group, consumer, options, scripts, keys, logger, logPrefix, deadLetterStream } = this.deps.scope;
    const fields = deadLetterFields(
      {
        stream: list,
        id: LIST_DEAD_LETTER_ID,
        group,
        consumer,
        deliveries: this.deliveries,
        error: reason,
        fields: listEntryFields(this.entry),
      },
      new Date(),
    );
    const maxLen = options.deadLetterMaxLen === undefined ? '' : String(options.deadLetterMaxLen);
    const plural = this.deliveries === 1 ? 'y' : 'ies';
    try {
      const deadId = await scripts.deadLetter(deadLetterStream, keys.processing, this.stored, maxLen, fields);
      logger.error(
        `${logPrefix} an entry moved to dead-letter stream "${deadLetterStream}" as ${deadId} after ${this.deliveries} deliver${plural}: ${reason}`,
      );
    } catch (error) {
      logger.error(
        `${logPrefix} could not dead-letter an entry to "${deadLetterStream}" (${describeError(error)}); it stays in processing list "${keys.processing}" and is tried again in claimIdleMs (${options.claimIdleMs} ms). Check that "${deadLetterStream}" is a stream.`,
      );
      this.later(() => this.sendDeadLetter(reason));
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
      `${logPrefix} an entry failed on delivery ${this.deliveries} of ${options.maxDeliveries} (${verdict.reason}); handing it back, due in ${verdict.delayMs} ms.`,
    );
    await this.handBack(verdict.delayMs, failure);
  }
}
