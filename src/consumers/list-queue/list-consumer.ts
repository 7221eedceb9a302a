import type { Logger } from '@nestjs/common';
import type { ConnectionSet } from '../../connection/connection-set.js';
import type { ResolvedServerOptions } from '../../options/resolve-server-options.js';
import type { ListHandlerInvoker } from './list-entry-run.js';
import { ListWorker, type ListBinding } from './list-worker.js';
import type { ServerTelemetry } from '../../telemetry/telemetry.js';

/** What the list-queue mode of a server is built from. */
export interface ListConsumerDeps {
  readonly bindings: readonly ListBinding[];
  readonly server: ResolvedServerOptions;
  readonly connections: ConnectionSet;
  readonly logger: Logger;
  /** The bound handler of a binding, resolved once. */
  readonly invokerOf: (binding: ListBinding) => ListHandlerInvoker;
  readonly telemetry: ServerTelemetry;
  readonly onFatal: (error: Error) => void;
}

/** Every bound list queue of a server: one worker and one blocking connection per list. */
export class ListConsumer {
  private constructor(private readonly workers: readonly ListWorker[]) {}

  /**
   * Opens each list's blocking connection, registers this consumer with each
   * list and puts its own unfinished entries back at the head.
   */
  static async open(deps: ListConsumerDeps): Promise<ListConsumer> {
    const { bindings, server, connections, logger } = deps;
    const workers = await Promise.all(
      bindings.map(async (binding) => {
        const blocking = await connections.openListReader(binding.list);
        const worker = new ListWorker({
          binding,
          group: server.group,
          consumer: server.consumer,
          deserializer: server.deserializer,
          shutdownTimeoutMs: server.shutdownTimeoutMs,
          commands: connections.commands,
          scripts: connections.listScripts,
          blocking,
          logger,
          invoke: deps.invokerOf(binding),
          telemetry: deps.telemetry.forConsumer({
            destination: binding.list,
            group: server.group,
            consumer: server.consumer,
            hasEntryIds: false,
          }),
          onFatal: deps.onFatal,
        });
        await worker.open();
        return worker;
      }),
    );
    return new ListConsumer(workers);
  }

  /** The bound lists. */
  get lists(): string[] {
    return this.workers.map((worker) => worker.list);
  }

  /** Starts taking entries. */
  start(): void {
    for (const worker of this.workers) worker.start();
  }

  /** Stops taking entries (interrupting blocked BLMOVEs). */
  async stopReading(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stopReading()));
  }

  /** Waits for running handlers until `deadline`, flushes removals, unregisters where nothing is left. */
  async finish(deadline: number): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.finish(deadline)));
  }
}
