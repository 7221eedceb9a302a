import type { Logger } from '@nestjs/common';
import type { Attributes, BatchObservableCallback, Meter, ObservableGauge } from '@opentelemetry/api';
import { replyFields, textField } from '../codec/reply-fields.js';
import type { RedisCommands } from '../connection/redis-client.js';
import { lagOfGroup, pendingSummary } from '../connection/stream-figures.js';
import { describeError } from '../errors/describe-error.js';
import { isNoSuchKey } from '../errors/redis-reply.js';
import type { GaugeTargets } from './telemetry.js';
import type { OtelApi } from './otel-api.js';
import {
  ATTR_CLIENT_ID,
  ATTR_CONSUMER_GROUP_NAME,
  ATTR_DESTINATION_NAME,
  ATTR_LIST_PART,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM,
  METRIC_CONSUMER_PENDING,
  METRIC_DEAD_LETTER_LENGTH,
  METRIC_GROUP_LAG,
  METRIC_GROUP_LAG_AGE,
  METRIC_GROUP_PENDING,
  METRIC_LIST_LENGTH,
  METRIC_PENDING_OLDEST_AGE,
  METRIC_STREAM_LENGTH,
} from './semantic-names.js';

interface Gauges {
  readonly streamLength: ObservableGauge;
  readonly lag: ObservableGauge;
  readonly lagAge: ObservableGauge;
  readonly pending: ObservableGauge;
  readonly oldestPendingAge: ObservableGauge;
  readonly consumerPending: ObservableGauge;
  readonly deadLetterLength: ObservableGauge;
  readonly listLength: ObservableGauge;
}

/** One figure to report: the gauge, its value, its attributes. */
type Observation = readonly [ObservableGauge, number, Attributes];

function createGauges(meter: Meter): Gauges {
  const gauge = (name: string, unit: string, description: string): ObservableGauge =>
    meter.createObservableGauge(name, { unit, description });
  return {
    streamLength: gauge(METRIC_STREAM_LENGTH, '{entry}', 'Entries in a bound stream (XLEN).'),
    lag: gauge(METRIC_GROUP_LAG, '{entry}', 'Entries not yet delivered to the group (XINFO GROUPS lag; Redis 7.0 and later).'),
    lagAge: gauge(METRIC_GROUP_LAG_AGE, 's', 'Age of the oldest entry not yet delivered to the group; 0 when none waits.'),
    pending: gauge(METRIC_GROUP_PENDING, '{entry}', "Entries delivered to the group and not acknowledged yet (the group's PEL)."),
    oldestPendingAge: gauge(
      METRIC_PENDING_OLDEST_AGE,
      's',
      'Age of the oldest pending entry (since it was added); 0 when none is pending.',
    ),
    consumerPending: gauge(METRIC_CONSUMER_PENDING, '{entry}', 'Pending entries per consumer (perConsumer: true).'),
    deadLetterLength: gauge(METRIC_DEAD_LETTER_LENGTH, '{entry}', 'Entries in the dead-letter stream of a stream or list queue.'),
    listLength: gauge(
      METRIC_LIST_LENGTH,
      '{entry}',
      'Entries of a list queue: waiting (list), being handled here (processing), handed back (retry).',
    ),
  };
}

/**
 * The gauges of one server: read from Redis by a timer (unref'd, under the
 * root context) every `intervalMs` into a snapshot, which the metric
 * reader's collection observes; a collection never waits for Redis.
 */
export class GaugeWatch {
  private readonly gauges: Gauges;
  private readonly observables: ObservableGauge[];
  private readonly callback: BatchObservableCallback;
  private snapshot: readonly Observation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private isStopped = false;
  private readonly attributes = new Map<string, Attributes>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly api: OtelApi,
    private readonly meter: Meter,
    private readonly commands: RedisCommands,
    private readonly targets: GaugeTargets,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.gauges = createGauges(meter);
    this.observables = Object.values(this.gauges as unknown as Record<string, ObservableGauge>);
    this.callback = (result) => {
      for (const [gauge, value, attributes] of this.snapshot) result.observe(gauge, value, attributes);
    };
    meter.addBatchObservableCallback(this.callback, this.observables);
  }

  /** Reads the figures now, then every `intervalMs`, until {@link stop}. */
  start(): void {
    this.api.context.with(this.api.ROOT_CONTEXT, () => void this.refresh());
  }

  /** Stops reading and observing. */
  stop(): void {
    this.isStopped = true;
    clearTimeout(this.timer);
    this.meter.removeBatchObservableCallback(this.callback, this.observables);
  }

  /** Reads every figure once; resolves when the snapshot is replaced. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    const now = Date.now();
    const { streams, broadcastStreams, lists } = this.targets;
    const parts = await Promise.all([
      ...streams.map(({ stream, deadLetterStream }) => this.readStream(stream, deadLetterStream, now)),
      ...broadcastStreams.map((stream) => this.readLength(stream)),
      ...lists.map((list) => this.readList(list)),
    ]);
    if (this.isStopped) return;
    this.snapshot = parts.flat();
    this.timer = setTimeout(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  private async readStream(stream: string, deadLetterStream: string, now: number): Promise<Observation[]> {
    const { commands, gauges, targets } = this;
    const attributes = this.attributesOf(stream, true);
    try {
      const [length, groups, pending, deadLetters] = await Promise.all([
        commands.xlen(stream),
        commands.xinfo('GROUPS', stream) as Promise<unknown[]>,
        pendingSummary(commands, stream, targets.group, now),
        commands.xlen(deadLetterStream),
      ]);
      const fields = groups.map(replyFields).find((group) => textField(group, 'name') === targets.group);
      const observed: Observation[] = [
        [gauges.streamLength, length, attributes],
        [gauges.pending, pending.count, attributes],
        [gauges.oldestPendingAge, pending.oldestMs / 1000, attributes],
        [gauges.deadLetterLength, deadLetters, attributes],
      ];
      if (fields !== undefined) {
        const { lag, lagMs } = await lagOfGroup(commands, stream, fields, now);
        // Redis 6.2 has no lag count (nor 7+ after deletions in the range): omitted rather than guessed.
        if (lag !== undefined) observed.push([gauges.lag, lag, attributes]);
        observed.push([gauges.lagAge, lagMs / 1000, attributes]);
      }
      if (targets.perConsumer) {
        for (const [consumer, count] of pending.byConsumer) {
          observed.push([gauges.consumerPending, count, { ...attributes, [ATTR_CLIENT_ID]: consumer }]);
        }
      }
      return observed;
    } catch (error) {
      return this.unread(stream, error);
    }
  }

  private async readLength(stream: string): Promise<Observation[]> {
    try {
      return [[this.gauges.streamLength, await this.commands.xlen(stream), this.attributesOf(stream, false)]];
    } catch (error) {
      return this.unread(stream, error);
    }
  }

  private async readList(target: GaugeTargets['lists'][number]): Promise<Observation[]> {
    const { commands, gauges } = this;
    const { list, processing, retry, deadLetterStream } = target;
    try {
      const [waiting, handling, handedBack, deadLetters] = await Promise.all([
        commands.llen(list),
        commands.llen(processing),
        commands.zcard(retry),
        commands.xlen(deadLetterStream),
      ]);
      return [
        [gauges.listLength, waiting, this.listAttributesOf(list, 'list')],
        [gauges.listLength, handling, this.listAttributesOf(list, 'processing')],
        [gauges.listLength, handedBack, this.listAttributesOf(list, 'retry')],
        [gauges.deadLetterLength, deadLetters, this.attributesOf(list, false)],
      ];
    } catch (error) {
      return this.unread(list, error);
    }
  }

  /** A key whose figures could not be read: said once as a warning (a missing ACL grant), then at debug level. */
  private unread(key: string, error: unknown): Observation[] {
    // A stream not created yet (missingStream: 'wait') has no figures; nothing is wrong.
    if (isNoSuchKey(error)) return [];
    const message = `Telemetry: could not read the gauges of "${key}" (${describeError(error)}); they are left out until a read succeeds.`;
    if (this.warned.has(key)) this.logger.debug?.(message);
    else {
      this.warned.add(key);
      this.logger.warn(`${message} The gauges need XLEN, XINFO GROUPS, XPENDING and XRANGE (lists: LLEN, ZCARD) on it.`);
    }
    return [];
  }

  private attributesOf(destination: string, hasGroup: boolean): Attributes {
    const key = `${hasGroup ? 'g' : 'n'}:${destination}`;
    let attributes = this.attributes.get(key);
    if (attributes === undefined) {
      attributes = { [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM, [ATTR_DESTINATION_NAME]: destination };
      if (hasGroup) attributes[ATTR_CONSUMER_GROUP_NAME] = this.targets.group;
      this.attributes.set(key, attributes);
    }
    return attributes;
  }

  private listAttributesOf(list: string, part: 'list' | 'processing' | 'retry'): Attributes {
    const key = `l:${part}:${list}`;
    let attributes = this.attributes.get(key);
    if (attributes === undefined) {
      attributes = { ...this.attributesOf(list, false), [ATTR_LIST_PART]: part };
      if (part === 'processing' && this.targets.perConsumer) attributes[ATTR_CLIENT_ID] = this.targets.consumer;
      this.attributes.set(key, attributes);
    }
    return attributes;
  }
}
