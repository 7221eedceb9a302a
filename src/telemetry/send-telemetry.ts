import type { Attributes, Counter, Meter, Span, Tracer } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.js';
import {
  ATTR_DESTINATION_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGE_ID,
  ATTR_MESSAGING_SYSTEM,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  METRIC_SENT,
} from './semantic-names.js';
import type { SendTelemetry } from './telemetry.js';
import { errorTypeOf, metadataSetter } from './trace-carrier.js';

/** What is built once per destination a client writes to. */
interface Destination {
  readonly spanName: string;
  readonly spanAttributes: Attributes;
  readonly sentAttributes: Attributes;
  readonly failedAttributes: Map<string, Attributes>;
}

/** Most destinations with attribute sets kept; a client writing to more builds the rest per write. */
const MAX_DESTINATIONS = 1_000;

/** Creates the counter of sent messages on `meter`. */
export function createSentCounter(meter: Meter): Counter {
  return meter.createCounter(METRIC_SENT, { unit: '{message}', description: 'Number of messages a producer attempted to send to Redis.' });
}

/**
 * A client's `send <destination>` spans (kind producer) and sent counter.
 * The span's context is injected into a copy of the entry's metadata with
 * the global propagator (W3C `traceparent`/`tracestate` by default), and the
 * write runs inside it.
 */
export class OtelSendTelemetry implements SendTelemetry {
  readonly isOn = true;
  private readonly destinations = new Map<string, Destination>();

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer | undefined,
    private readonly sent: Counter | undefined,
  ) {}

  send<T>(
    destination: string,
    metadata: Record<string, unknown> | undefined,
    write: (metadata: Record<string, unknown> | undefined) => Promise<T>,
  ): Promise<T> {
    const { api, tracer } = this;
    const target = this.destinationOf(destination);
    let span: Span | undefined;
    let written: Promise<T>;
    if (tracer === undefined) written = write(metadata);
    else {
      span = tracer.startSpan(target.spanName, { kind: api.SpanKind.PRODUCER, attributes: target.spanAttributes });
      const context = api.trace.setSpan(api.context.active(), span);
      const carried: Record<string, unknown> = { ...metadata };
      api.propagation.inject(context, carried, metadataSetter);
      written = api.context.with(context, write, undefined, Object.keys(carried).length > 0 ? carried : metadata);
    }
    return written.then(
      (reply) => {
        if (span !== undefined) {
          if (typeof reply === 'string') span.setAttribute(ATTR_MESSAGE_ID, reply);
          span.end();
        }
        this.sent?.add(1, target.sentAttributes);
        return reply;
      },
      (error: unknown) => {
        const errorType = errorTypeOf(error);
        if (span !== undefined) {
          span.setAttribute(ATTR_ERROR_TYPE, errorType);
          span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        }
        this.sent?.add(1, this.failedAttributesOf(target, errorType));
        throw error;
      },
    );
  }

  detached<R>(fn: () => R): R {
    return this.api.context.with(this.api.ROOT_CONTEXT, fn);
  }

  private destinationOf(name: string): Destination {
    const known = this.destinations.get(name);
    if (known !== undefined) return known;
    const base: Attributes = { [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM, [ATTR_DESTINATION_NAME]: name, [ATTR_OPERATION_NAME]: 'send' };
    const made: Destination = {
      spanName: `send ${name}`,
      spanAttributes: { ...base, [ATTR_OPERATION_TYPE]: 'send' },
      sentAttributes: base,
      failedAttributes: new Map(),
    };
    if (this.destinations.size < MAX_DESTINATIONS) this.destinations.set(name, made);
    return made;
  }

  private failedAttributesOf(target: Destination, errorType: string): Attributes {
    let attributes = target.failedAttributes.get(errorType);
    if (attributes === undefined) {
      attributes = { ...target.sentAttributes, [ATTR_ERROR_TYPE]: errorType };
      target.failedAttributes.set(errorType, attributes);
    }
    return attributes;
  }
}
