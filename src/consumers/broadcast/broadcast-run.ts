import { argoEventOf } from '../../codec/argo-events-envelope.js';
import {
  decodeFlat,
  fromBytes,
  mayHaveLostBytes,
  type DecodedEntry,
  type FieldValue,
  type StreamFields,
} from '../../codec/stream-codec.js';
import { RedisStreamsContext, type EntryControl } from '../../context/redis-streams.context.js';
import { describeDeserializerError, deserializePacket } from '../../delivery/deserialize.js';
import { followHandler } from '../../delivery/handler-result.js';
import { describeError } from '../../errors/describe-error.js';
import { NotSupportedError } from '../../errors/not-supported.error.js';
import type { BroadcastScope } from './broadcast-scope.js';
import type { DeliveryTrace } from '../../telemetry/telemetry.js';

/**
 * One entry of a broadcast stream, from decoding to the end of its handler.
 * Nothing is acknowledged, retried or dead-lettered: the reader has moved
 * past the entry already; a failure is logged (stream and entry id, never
 * the payload) and the slot freed. The caller holds a slot for it.
 */
/** The signal of every broadcast entry. */
const NEVER_ABORTED = new AbortController().signal;

export class BroadcastRun implements EntryControl {
  private recordedError: unknown;
  /** Whether {@link flat} is known to hold the entry's exact bytes. */
  private isExact = false;
  /** The delivery's span and start, while telemetry observes it. */
  private trace: DeliveryTrace | undefined;

  constructor(
    private readonly scope: BroadcastScope,
    private readonly id: string,
    private flat: readonly FieldValue[],
  ) {}

  /** Handles the entry, then frees its slot; never throws or rejects. */
  start(): void {
    const { scope } = this;
    if (!this.isExact && mayHaveLostBytes(this.flat)) {
      this.readBytes();
      return;
    }
    // An envelope copies the fields as read: nothing to decode, nothing undecodable.
    const decoded: DecodedEntry =
      scope.argoEvents === undefined
        ? decodeFlat(this.flat)
        : { kind: 'envelope', data: argoEventOf(scope.argoEvents, this.id, this.flat, Date.now()), metadata: undefined };
    if (decoded.kind === 'undecodable') {
      this.skip(`cannot be decoded (${decoded.reason})`);
      return;
    }
    const fields = decoded.kind === 'fields' ? decoded.data : undefined;
    const metadata = decoded.kind === 'envelope' ? decoded.metadata : undefined;
    if (scope.deserializer === undefined) {
      this.invoke(decoded.data, fields, metadata);
      return;
    }
    deserializePacket(scope.deserializer, scope.pattern, scope.stream, decoded.data, metadata).then(
      (data) => this.invoke(data, fields, metadata),
      (error: unknown) => this.skip(`could not be deserialized (${describeDeserializerError(error)})`),
    );
  }

  /** Reads the entry again as bytes: its text form may have lost some (see {@link mayHaveLostBytes}). */
  private readBytes(): void {
    this.scope.commands.xrangeBuffer(this.scope.stream, this.id, this.id).then(
      (rows) => {
        const row = rows[0];
        if (row === undefined) {
          this.skip('was deleted or trimmed before it could be read as bytes');
          return;
        }
        this.flat = fromBytes(row[1]);
        this.isExact = true;
        this.start();
      },
      (error: unknown) => this.skip(`could not be read as bytes (${describeError(error)})`),
    );
  }

  private invoke(data: unknown, fields: StreamFields | undefined, metadata: Record<string, unknown> | undefined): void {
    const { stream, consumer, pattern } = this.scope;
    // No group, delivered once: this instance reads every entry exactly one time.
    const context = new RedisStreamsContext([stream, this.id, this.flat, '', consumer, 1, this, fields, pattern, metadata]);
    const { telemetry } = this.scope;
    if (telemetry.isOn) this.trace = telemetry.begin(this.id, 1, metadata);
    let outcome: Promise<unknown>;
    try {
      // Inside the delivery's span, so that the handler's own spans nest in it.
      outcome =
        this.trace === undefined ? this.scope.invoke(data, context) : telemetry.within(this.trace, this.scope.invoke, data, context);
    } catch (error) {
      this.fail(error);
      return;
    }
    followHandler(
      outcome,
      () => this.finish(),
      (error: unknown) => this.fail(error),
    );
  }

  private fail(error: unknown): void {
    const { logger, logPrefix } = this.scope;
    logger.error(
      `${logPrefix} handler failed on entry ${this.id} (${describeError(this.recordedError ?? error)}); moving on: broadcast reads are at most once per instance, nothing is retried.`,
    );
    this.finish(this.recordedError ?? error);
  }

  private skip(reason: string): void {
    const { logger, logPrefix } = this.scope;
    logger.error(`${logPrefix} entry ${this.id} ${reason}; skipped (broadcast reads dead-letter nothing).`);
    this.finish();
  }

  /** Frees the slot; ends the delivery's telemetry (no outcome: a broadcast read settles nothing). */
  private finish(failure?: unknown): void {
    const { telemetry } = this.scope;
    if (this.trace !== undefined) telemetry.settle(this.trace, undefined, failure);
    this.trace = undefined;
    this.scope.slots.release();
  }

  /** Nothing to acknowledge: the reader moved past the entry when it read it. */
  ack(): Promise<void> {
    return Promise.resolve();
  }

  retry(): Promise<void> {
    return Promise.reject(this.unsupported('retry()'));
  }

  deadLetter(): Promise<void> {
    return Promise.reject(this.unsupported('deadLetter()'));
  }

  /** Never aborted: a broadcast handler has no time limit and nothing to release. */
  get signal(): AbortSignal {
    return NEVER_ABORTED;
  }

  recordError(error: unknown): void {
    this.recordedError = error;
  }

  private unsupported(what: string): NotSupportedError {
    return new NotSupportedError(
      `${this.scope.logPrefix} ctx.${what} on entry ${this.id}: a broadcast read is at most once per instance, so nothing is retried or dead-lettered. Handle the failure in the handler, or drop broadcast: true to read the stream through the consumer group.`,
    );
  }
}
