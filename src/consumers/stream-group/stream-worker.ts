import type { Logger } from '@nestjs/common';
import { describeError } from '../../errors/redis-reply.js';
import type { ResolvedServerOptions, ResolvedStreamOptions } from '../../options/resolve-server-options.js';
import { Acker } from './acker.js';
import { makeClaimableAfter } from './claim-schedule.js';
import type { ConnectionSet } from '../../connection/connection-set.js';
import { ensureGroup, lastDeliveredId } from './consumer-group.js';
import { EntryProcessor, type HandlerInvoker } from './entry-processor.js';
import { PendingReclaimer } from './pending-reclaimer.js';
import type { MessageHandler } from '@nestjs/microservices';
import { StreamReader } from './stream-reader.js';
import { Slots } from '../../delivery/slots.js';

/** A stream and the handler bound to it, resolved once at start. */
export interface StreamBinding {
  readonly pattern: string;
  readonly stream: string;
  readonly handler: MessageHandler;
  readonly options: ResolvedStreamOptions;
}

/** What a stream worker is built from. */
export interface StreamWorkerDeps {
  readonly binding: StreamBinding;
  readonly server: ResolvedServerOptions;
  readonly connections: ConnectionSet;
  readonly logger: Logger;
  readonly invoke: HandlerInvoker;
  readonly onFatal: (error: Error) => void;
}

/**
 * Everything that serves one bound stream: its reader, reclaimer, acker and
 * handler slots, started and stopped together.
 */
export class StreamWorker {
  private reader: StreamReader | undefined;
  private reclaimer: PendingReclaimer | undefined;
  private acker: Acker | undefined;
  private processor: EntryProcessor | undefined;
  private readonly slots: Slots;
  private hasGroup = false;
  private hasFailed = false;

  constructor(private readonly deps: StreamWorkerDeps) {
    this.slots = new Slots(deps.binding.options.concurrency);
  }

  /**
   * Creates the group and opens the blocking connection.
   *
   * @returns false when the stream is missing and the worker will wait for it
   * @throws StreamConfigurationError for a key of the wrong type or missing permissions
   */
  async prepare(): Promise<boolean> {
    const { binding, server, connections, logger } = this.deps;
    const { stream } = binding;
    const commands = connections.commands;
    const state = await ensureGroup(commands, stream, server.group, server.startId, server.missingStream);
    this.hasGroup = state !== 'missing-stream';
    const resumeAfter = this.hasGroup ? ((await lastDeliveredId(commands, stream, server.group)) ?? '0') : '0';
    if (state === 'created') logger.log(`Created group "${server.group}" on stream "${stream}" at ${server.startId}.`);
    const blocking = await connections.openReader(stream);
    const options = binding.options;
    const common = { stream, group: server.group, consumer: server.consumer, options, commands, logger, slots: this.slots };
    this.acker = new Acker(commands, stream, server.group, logger);
    this.processor = new EntryProcessor({
      ...common,
      pattern: binding.pattern,
      scripts: connections.scripts,
      acker: this.acker,
      invoke: this.deps.invoke,
      deserializer: server.deserializer,
    });
    this.reader = new StreamReader(
      {
        ...common,
        missingStream: server.missingStream,
        streamWaitIntervalMs: server.streamWaitIntervalMs,
        blocking,
        processor: this.processor,
        acker: this.acker,
        onFatal: (error) => this.failForGood(error),
      },
      resumeAfter,
    );
    const reader = this.reader;
    this.slots.onPressure = () => reader.interrupt();
    this.reclaimer = new PendingReclaimer({
      ...common,
      idleConsumerCleanupMs: server.idleConsumerCleanupMs,
      scripts: connections.scripts,
      processor: this.processor,
      onFatal: (error) => this.failForGood(error),
    });
    return this.hasGroup;
  }

  /**
   * The stream cannot be used any more (its key changed type, a permission was
   * taken away): stops its reader, reclaimer, leases and acks together, and
   * reports it once; retrying could not help.
   */
  private failForGood(error: Error): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.reclaimer?.stopForGood();
    this.acker?.close();
    void this.reader?.stop();
    this.deps.onFatal(error);
  }

  /** Starts reading and reclaiming. */
  start(): void {
    this.reader?.start(this.hasGroup);
    this.reclaimer?.start();
  }

  /** Stops taking new work: the reclaimer's timers and the reader's loop. */
  async stopReading(): Promise<void> {
    await this.reclaimer?.stopClaiming();
    await this.reader?.stop();
  }

  /**
   * Waits for running handlers until `deadline`, releases the ones still
   * running for immediate pickup by other consumers, then flushes acks.
   */
  async finish(deadline: number): Promise<void> {
    const { logger, binding, server, connections } = this.deps;
    if (this.processor === undefined || this.acker === undefined) return;
    await waitUntil(this.slots.whenIdle(), deadline);
    // Renewal must stop before the release below, or it would undo it.
    this.reclaimer?.stopLeases();
    const unfinished = this.processor.inFlight.ids();
    if (unfinished.length > 0) {
      logger.warn(
        `Stream "${binding.stream}" group "${server.group}": ${unfinished.length} handler(s) still running after shutdownTimeoutMs (${server.shutdownTimeoutMs} ms); releasing their entries to the group.`,
      );
      await this.release(unfinished);
    }
    await this.acker.drain(Math.max(deadline, Date.now() + 1_000));
    this.acker.close();
    try {
      await connections.scripts.deleteConsumerIfIdle(binding.stream, server.group, server.consumer);
    } catch (error) {
      logger.debug?.(`Consumer cleanup on close skipped: ${describeError(error)}`);
    }
  }

  private async release(ids: string[]): Promise<void> {
    const { binding, server, connections, logger } = this.deps;
    try {
      // Claimable at once, so another consumer takes them on its next scan
      // instead of waiting for claimIdleMs.
      const scope = { stream: binding.stream, group: server.group, consumer: server.consumer, claimIdleMs: binding.options.claimIdleMs };
      await makeClaimableAfter(connections.commands, scope, ids, 0);
    } catch (error) {
      logger.warn(
        `Stream "${binding.stream}" group "${server.group}": could not release unfinished entries (${describeError(error)}); they stay pending on "${server.consumer}" until claimIdleMs passes.`,
      );
    }
  }
}

function waitUntil(promise: Promise<void>, deadline: number): Promise<void> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, remaining);
    }),
  ]).finally(() => clearTimeout(timer));
}
