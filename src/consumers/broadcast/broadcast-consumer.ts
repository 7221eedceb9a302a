import { argoEventOriginOf } from '../../options/resolve-envelope.js';
import type { Logger } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import type { ConnectionSet } from '../../connection/connection-set.js';
import type { HandlerInvoker } from '../../context/handler-invoker.js';
import { waitUntil } from '../../delivery/deadline.js';
import { readCountOf, readGroupsOf } from '../../delivery/read-group-key.js';
import { Slots } from '../../delivery/slots.js';
import { isConfigurationError } from '../../errors/redis-reply.js';
import { asConfigurationError } from '../../errors/stream-configuration.error.js';
import type { ResolvedBroadcastOptions } from '../../options/resolve-broadcast-options.js';
import type { ResolvedServerOptions } from '../../options/resolve-server-options.js';
import { createBroadcastScope } from './broadcast-scope.js';
import type { ServerTelemetry } from '../../telemetry/telemetry.js';
import { BroadcastReader } from './broadcast-reader.js';
import { BroadcastStream } from './broadcast-stream.js';
import { startPosition, streamTip, type StreamTip } from './stream-tip.js';

/** A stream read by broadcast and the handler bound to it, resolved once at start. */
export interface BroadcastBinding {
  readonly pattern: string;
  readonly stream: string;
  readonly handler: MessageHandler;
  readonly options: ResolvedBroadcastOptions;
}

/** What the broadcast mode of a server is built from. */
export interface BroadcastConsumerDeps {
  readonly bindings: readonly BroadcastBinding[];
  readonly server: ResolvedServerOptions;
  readonly connections: ConnectionSet;
  readonly logger: Logger;
  /** The bound handler of a binding, resolved once. */
  readonly invokerOf: (binding: BroadcastBinding) => HandlerInvoker;
  readonly telemetry: ServerTelemetry;
  readonly onFatal: (error: Error) => void;
}

/**
 * Every broadcast stream of a server: read without a consumer group, with
 * plain XREAD, one reader (and blocking connection) per group of streams
 * that can be read together (see readGroupKey; on a cluster, per hash slot).
 */
export class BroadcastConsumer {
  private constructor(
    private readonly streams: readonly BroadcastStream[],
    private readonly readers: readonly BroadcastReader[],
    private readonly logger: Logger,
  ) {}

  /**
   * Fixes where each stream is read from (for `latest`, the stream's last id
   * now, so that nothing added from here on is missed), then opens one
   * blocking connection per read group.
   *
   * @throws StreamConfigurationError for a key of the wrong type or missing permissions
   */
  static async open(deps: BroadcastConsumerDeps): Promise<BroadcastConsumer> {
    const { bindings, server, connections, logger } = deps;
    const commands = connections.commands;
    const tips = await Promise.all(bindings.map((binding) => tipOnStart(deps, binding.stream)));
    const streams: BroadcastStream[] = new Array<BroadcastStream>(bindings.length);
    const readers = await Promise.all(
      readGroupsOf(bindings, (stream) => connections.readPartition(stream)).map(async (indexes) => {
        const keys = indexes.map((index) => bindings[index]!.stream);
        const blocking = await connections.openReader(keys, 'broadcast');
        const { options } = bindings[indexes[0]!]!;
        const reader = new BroadcastReader(
          {
            blockMs: options.blockMs,
            readCount: readCountOf(options),
            lookIntervalMs: server.streamWaitIntervalMs,
            blocking,
            commands,
            logger,
          },
          keys,
        );
        for (const index of indexes) {
          const binding = bindings[index]!;
          const scope = createBroadcastScope({
            stream: binding.stream,
            pattern: binding.pattern,
            consumer: server.consumer,
            options: binding.options,
            commands,
            slots: new Slots(binding.options.concurrency),
            invoke: deps.invokerOf(binding),
            deserializer: server.deserializer,
            argoEvents: argoEventOriginOf(binding.options.envelope, binding.stream, server.group),
            logger,
            // No group: every instance reads every entry.
            telemetry: deps.telemetry.forConsumer({
              destination: binding.stream,
              group: undefined,
              consumer: server.consumer,
              hasEntryIds: true,
            }),
          });
          const tip = tips[index]!;
          const stream: BroadcastStream = new BroadcastStream(scope, startPosition(binding.options.start, tip), tip, (error) => {
            if (stream.hasStopped) return;
            stream.stop();
            reader.forget(stream);
            deps.onFatal(error);
          });
          streams[index] = stream;
          reader.add(stream);
        }
        return reader;
      }),
    );
    return new BroadcastConsumer(streams, readers, logger);
  }

  /** Starts reading. */
  start(): void {
    for (const reader of this.readers) reader.start();
  }

  /** Stops reading, interrupting the blocking reads. */
  async stopReading(): Promise<void> {
    await Promise.all(this.readers.map((reader) => reader.stop()));
  }

  /** Waits for running handlers until `deadline`; the ones still running then are left to finish on their own. */
  async finish(deadline: number): Promise<void> {
    await Promise.all(
      this.streams.map(async (stream) => {
        await waitUntil(stream.whenIdle(), deadline);
        const running = stream.running;
        if (running > 0) {
          this.logger.warn(
            `${stream.logPrefix} ${running} handler(s) still running after shutdownTimeoutMs; closing anyway (broadcast entries are not delivered again).`,
          );
        }
      }),
    );
  }
}

/** The stream's tip on start, for its start position and for noticing a recreated stream. */
async function tipOnStart(deps: BroadcastConsumerDeps, stream: string): Promise<StreamTip> {
  try {
    return await streamTip(deps.connections.commands, stream);
  } catch (error) {
    if (isConfigurationError(error)) throw asConfigurationError(error, stream, '');
    throw error;
  }
}
