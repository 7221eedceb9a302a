import type { Logger } from '@nestjs/common';
import type { RedisCommands } from '../../connection/redis-client.js';
import type { StreamScripts } from '../../connection/scripts.js';
import type { Slots } from '../../delivery/slots.js';
import type { ResolvedStreamOptions } from '../../options/resolve-stream-group-options.js';
import type { DeliveryTelemetry } from '../../telemetry/telemetry.js';

/**
 * What every part serving one stream of a consumer group works with (reader,
 * reclaimer, acker, entry processor): built once per stream and shared.
 */
export interface StreamScope {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly options: ResolvedStreamOptions;
  /** Shared connection for everything that does not block, and backlog reads (on a cluster, an ioredis Cluster). */
  readonly commands: RedisCommands;
  readonly scripts: StreamScripts;
  /** The stream's handler slots: never more than `options.concurrency` entries in flight. */
  readonly slots: Slots;
  /**
   * Says that an entry of this stream left pending on purpose (a retry) or
   * by a failure becomes claimable in `delayMs`, so that the pending scanner
   * looks for it then instead of at its next routine look.
   */
  readonly claimableIn: (delayMs: number) => void;
  readonly logger: Logger;
  /** The stream's metrics and spans (a no-op without an OpenTelemetry SDK). */
  readonly telemetry: DeliveryTelemetry;
  /** `Stream "<stream>" group "<group>":`, the start of the log lines about this stream. */
  readonly logPrefix: string;
}

/** Builds a stream's scope, its log prefix included. */
export function createStreamScope(parts: Omit<StreamScope, 'logPrefix'>): StreamScope {
  return { ...parts, logPrefix: `Stream "${parts.stream}" group "${parts.group}":` };
}
