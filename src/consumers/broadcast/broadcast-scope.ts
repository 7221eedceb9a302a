import type { Logger } from '@nestjs/common';
import type { ArgoEventOrigin } from '../../codec/argo-events-envelope.js';
import type { ConsumerDeserializer } from '@nestjs/microservices';
import type { RedisCommands } from '../../connection/redis-client.js';
import type { HandlerInvoker } from '../../context/handler-invoker.js';
import type { Slots } from '../../delivery/slots.js';
import type { ResolvedBroadcastOptions } from '../../options/resolve-broadcast-options.js';
import type { DeliveryTelemetry } from '../../telemetry/telemetry.js';

/** What every part serving one broadcast stream works with, built once per stream. */
export interface BroadcastScope {
  readonly stream: string;
  /** The handler's pattern, `stream:<key>`. */
  readonly pattern: string;
  /** The server's consumer name: which instance this is, in the context. */
  readonly consumer: string;
  readonly options: ResolvedBroadcastOptions;
  /** Shared connection: re-reads as bytes, looks at the stream (on a cluster, an ioredis Cluster). */
  readonly commands: RedisCommands;
  /** The stream's handler slots: never more than `options.concurrency` entries read and unsettled. */
  readonly slots: Slots;
  readonly invoke: HandlerInvoker;
  readonly deserializer: ConsumerDeserializer | undefined;
  /** Set when the handler receives the argo-events event of each entry instead of its payload. */
  readonly argoEvents: ArgoEventOrigin | undefined;
  readonly logger: Logger;
  /** The stream's metrics and spans (a no-op without an OpenTelemetry SDK). */
  readonly telemetry: DeliveryTelemetry;
  /** `Broadcast stream "<stream>":`, the start of the log lines about this stream. */
  readonly logPrefix: string;
}

/** Builds a broadcast stream's scope, its log prefix included. */
export function createBroadcastScope(parts: Omit<BroadcastScope, 'logPrefix'>): BroadcastScope {
  return { ...parts, logPrefix: `Broadcast stream "${parts.stream}":` };
}
