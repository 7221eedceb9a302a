import type { Logger } from '@nestjs/common';
import type { ListScripts } from '../../connection/list-scripts.js';
import type { RedisClient } from '../../connection/redis-client.js';
import type { Slots } from '../../delivery/slots.js';
import type { ResolvedStreamOptions } from '../../options/resolve-stream-group-options.js';
import type { ListKeys } from '../../routing/key-names.js';
import type { DeliveryTelemetry } from '../../telemetry/telemetry.js';

/** What every part serving one list queue works with (reader, keeper, acker, entries): built once per list. */
export interface ListScope {
  readonly list: string;
  /** The server's group: list queues have none of their own, it names the app in contexts and dead letters. */
  readonly group: string;
  readonly consumer: string;
  readonly keys: ListKeys;
  readonly deadLetterStream: string;
  readonly options: ResolvedStreamOptions;
  /** Shared connection for everything that does not block (on a cluster, an ioredis Cluster). */
  readonly commands: RedisClient;
  readonly scripts: ListScripts;
  /** Never more than `options.concurrency` entries in this consumer's hands. */
  readonly slots: Slots;
  readonly logger: Logger;
  /** The list's metrics and spans (a no-op without an OpenTelemetry SDK). */
  readonly telemetry: DeliveryTelemetry;
  /** `List "<list>" consumer "<consumer>":`, the start of the log lines about this list. */
  readonly logPrefix: string;
}

/** Builds a list's scope, its log prefix included. */
export function createListScope(parts: Omit<ListScope, 'logPrefix'>): ListScope {
  return { ...parts, logPrefix: `List "${parts.list}" consumer "${parts.consumer}":` };
}
