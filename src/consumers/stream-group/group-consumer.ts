import type { Logger } from '@nestjs/common';
import type { ConnectionSet } from '../../connection/connection-set.js';
import type { ResolvedServerOptions } from '../../options/resolve-server-options.js';
import { AckTurn } from './acker.js';
import type { HandlerInvoker } from './entry-processor.js';
import { GroupReader } from './group-reader.js';
import { PendingScanner } from './pending-scanner.js';
import { waitForStreams } from './stream-gate.js';
import { readCountOf, readGroupsOf } from '../../delivery/read-group-key.js';
import { openStream, StreamWorker, type StreamBinding } from './stream-worker.js';
import type { ServerTelemetry } from '../../telemetry/telemetry.js';

/** What the consumer-group mode of a server is built from. */
export interface GroupConsumerDeps {
  readonly bindings: readonly StreamBinding[];
  readonly server: ResolvedServerOptions;
  readonly connections: ConnectionSet;
  readonly logger: Logger;
  /** The bound handler of a binding, resolved once. */
  readonly invokerOf: (binding: StreamBinding) => HandlerInvoker;
  readonly telemetry: ServerTelemetry;
  readonly onFatal: (error: Error) => void;
}

/**
 * Every bound stream of a server's consumer group: one worker per stream,
 * one reader (and blocking connection) per group of streams that can be read
 * together (see readGroupKey), one pending scanner for all of them.
 */
export class GroupConsumer {
  private readonly stopping = new AbortController();
  /** Set while reading waits for missing streams (`missingStream: 'wait'`). */
  private gate: Promise<void> | undefined;

  private constructor(
    private readonly deps: GroupConsumerDeps,
    private readonly workers: readonly StreamWorker[],
    private readonly readers: readonly GroupReader[],
    private readonly scanner: PendingScanner,
  ) {}

  /**
   * Creates (or finds) the group on every stream, all at once, then opens one
   * blocking connection per read group and builds the workers.
   *
   * @throws StreamConfigurationError for a key of the wrong type or missing permissions
   */
  static async open(deps: GroupConsumerDeps): Promise<GroupConsumer> {
    const { bindings, server, connections, logger } = deps;
    const commands = connections.commands;
    const starts = await Promise.all(bindings.map((binding) => openStream(commands, binding.stream, server, logger)));
    const groups = await Promise.all(
      readGroupsOf(bindings, (stream) => connections.readPartition(stream)).map(async (indexes) => {
        const streams = indexes.map((index) => bindings[index]!.stream);
        const blocking = await connections.openReader(streams);
        const { options } = bindings[indexes[0]!]!;
        const reader = new GroupReader(
          {
            group: server.group,
            consumer: server.consumer,
            blockMs: options.blockMs,
            readCount: readCountOf(options),
            blocking,
            commands,
            logger,
          },
          streams,
        );
        return { reader, indexes };
      }),
    );
    const scanner = new PendingScanner();
    const acks = new AckTurn(commands);
    const workers: StreamWorker[] = new Array<StreamWorker>(bindings.length);
    for (const { reader, indexes } of groups) {
      for (const index of indexes) {
        const binding = bindings[index]!;
        workers[index] = new StreamWorker({
          binding,
          start: starts[index]!,
          server,
          commands,
          scripts: connections.scripts,
          logger,
          invoke: deps.invokerOf(binding),
          reads: reader,
          scanner,
          acks,
          telemetry: deps.telemetry.forConsumer({
            destination: binding.stream,
            group: server.group,
            consumer: server.consumer,
            hasEntryIds: true,
          }),
          onFatal: deps.onFatal,
        });
      }
    }
    return new GroupConsumer(
      deps,
      workers,
      groups.map(({ reader }) => reader),
      scanner,
    );
  }

  /** The bound streams missing on start, waited for (`missingStream: 'wait'`). */
  get missingStreams(): string[] {
    return this.workers.filter((worker) => !worker.hasGroup).map((worker) => worker.stream);
  }

  /**
   * Starts reading and scanning: at once, or, when bound streams are missing
   * (`missingStream: 'wait'`), once all of them exist; this does not wait for them.
   */
  start(): void {
    const missing = this.missingStreams;
    if (missing.length === 0) {
      this.startReading();
      return;
    }
    const { connections, logger, server } = this.deps;
    const deps = { commands: connections.commands, logger, intervalMs: server.streamWaitIntervalMs };
    this.gate = waitForStreams(missing, deps, this.stopping.signal).then((allExist) => {
      if (allExist) this.startReading();
    });
  }

  private startReading(): void {
    for (const reader of this.readers) reader.start();
    this.scanner.start();
  }

  /** Stops taking new work: claims first, then reads (interrupting the blocking ones). */
  async stopReading(): Promise<void> {
    this.stopping.abort();
    await this.gate;
    await Promise.all(this.workers.map((worker) => worker.stopClaiming()));
    await Promise.all(this.readers.map((reader) => reader.stop()));
  }

  /** Waits for running handlers until `deadline`, releases the rest, flushes acks; then stops scanning. */
  async finish(deadline: number): Promise<void> {
    try {
      await Promise.all(this.workers.map((worker) => worker.finish(deadline)));
    } finally {
      this.scanner.stop();
    }
  }
}
