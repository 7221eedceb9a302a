import { argoEventOriginOf } from '../../options/resolve-envelope.js';
import type { Logger } from '@nestjs/common';
import type { RedisClient } from '../../connection/redis-client.js';
import type { MessageHandler } from '@nestjs/microservices';
import { describeError } from '../../errors/describe-error.js';
import type { ResolvedServerOptions } from '../../options/resolve-server-options.js';
import type { ResolvedStreamOptions } from '../../options/resolve-stream-group-options.js';
import type { StreamScripts } from '../../connection/scripts.js';
import { Slots } from '../../delivery/slots.js';
import { waitUntil } from '../../delivery/deadline.js';
import { Acker, type AckTurn } from './acker.js';
import { makeClaimableAfter } from './claim-schedule.js';
import { ensureGroup, lastDeliveredId } from './consumer-group.js';
import { EntryProcessor, type HandlerInvoker } from './entry-processor.js';
import type { GroupReader } from './group-reader.js';
import { PendingReclaimer } from './pending-reclaimer.js';
import type { PendingScanner } from './pending-scanner.js';
import { StreamReader } from './stream-reader.js';
import { createStreamScope, type StreamScope } from './stream-scope.js';
import type { DeliveryTelemetry } from '../../telemetry/telemetry.js';

/** A stream and the handler bound to it, resolved once at start. */
export interface StreamBinding {
  readonly pattern: string;
  readonly stream: string;
  readonly handler: MessageHandler;
  readonly options: ResolvedStreamOptions;
}

/** What {@link openStream} finds out in Redis before a worker is built. */
export interface StreamStart {
  /** False when the stream is missing and the group still has to be created. */
  readonly hasGroup: boolean;
  /** Where a recreated group resumes: the last id the group handed out. */
  readonly resumeAfter: string;
}

/** What a stream worker is built from. */
export interface StreamWorkerDeps {
  readonly binding: StreamBinding;
  readonly start: StreamStart;
  readonly server: ResolvedServerOptions;
  readonly commands: RedisClient;
  readonly scripts: StreamScripts;
  readonly logger: Logger;
  readonly invoke: HandlerInvoker;
  /** The read group the stream is read in. */
  readonly reads: GroupReader;
  /** The server's one pending scanner. */
  readonly scanner: PendingScanner;
  /** Flushes the server's acks together, once per turn. */
  readonly acks: AckTurn;
  /** The stream's metrics and spans. */
  readonly telemetry: DeliveryTelemetry;
  readonly onFatal: (error: Error) => void;
}

/**
 * Creates the group of a stream (or finds it) and where a recreated one would
 * resume, before its worker is built.
 *
 * @throws StreamConfigurationError for a key of the wrong type or missing permissions
 */
export async function openStream(
  commands: RedisClient,
  stream: string,
  server: ResolvedServerOptions,
  logger: Logger,
): Promise<StreamStart> {
  const state = await ensureGroup(commands, stream, server.group, server.startId, server.missingStream);
  const hasGroup = state !== 'missing-stream';
  const resumeAfter = hasGroup ? ((await lastDeliveredId(commands, stream, server.group)) ?? '0') : '0';
  if (state === 'created') logger.log(`Created group "${server.group}" on stream "${stream}" at ${server.startId}.`);
  return { hasGroup, resumeAfter };
}

/**
 * Everything that serves one bound stream: its reader (its part in its read
 * group), reclaimer (visited by the server's pending scanner), acker and
 * handler slots, built together and stopped together.
 */
export class StreamWorker {
  private readonly scope: StreamScope;
  private readonly acker: Acker;
  private readonly processor: EntryProcessor;
  private readonly reader: StreamReader;
  private readonly reclaimer: PendingReclaimer;
  private hasFailed = false;

  constructor(private readonly deps: StreamWorkerDeps) {
    const { binding, server, logger, reads, scanner } = deps;
    // A claim that finds every slot taken interrupts the blocking read, whose
    // reserved slots then come back.
    const slots = new Slots(binding.options.concurrency, () => reads.interrupt());
    const scope = createStreamScope({
      stream: binding.stream,
      group: server.group,
      consumer: server.consumer,
      options: binding.options,
      commands: deps.commands,
      scripts: deps.scripts,
      slots,
      logger,
      telemetry: deps.telemetry,
      claimableIn: (delayMs) => scanner.lookIn(this.reclaimer, delayMs),
    });
    const onFatal = (error: Error) => this.failForGood(error);
    this.scope = scope;
    this.acker = new Acker(scope, deps.acks.schedule);
    this.processor = new EntryProcessor(scope, {
      pattern: binding.pattern,
      acker: this.acker,
      invoke: deps.invoke,
      deserializer: server.deserializer,
      argoEvents: argoEventOriginOf(binding.options.envelope, binding.stream, server.group),
    });
    this.reader = new StreamReader(
      scope,
      {
        missingStream: server.missingStream,
        streamWaitIntervalMs: server.streamWaitIntervalMs,
        processor: this.processor,
        acker: this.acker,
        onFatal,
      },
      deps.start.resumeAfter,
      deps.start.hasGroup,
    );
    this.reclaimer = new PendingReclaimer(scope, {
      idleConsumerCleanupMs: server.idleConsumerCleanupMs,
      processor: this.processor,
      onFatal,
    });
    reads.add(this.reader);
    scanner.add(this.reclaimer, binding.options.claimIntervalMs);
  }

  /** The stream key. */
  get stream(): string {
    return this.scope.stream;
  }

  /** False when the stream is missing and the worker waits for it (`missingStream: 'wait'`). */
  get hasGroup(): boolean {
    return this.deps.start.hasGroup;
  }

  /**
   * The stream cannot be used any more (its key changed type, a permission was
   * taken away): stops its reader, reclaimer, leases and acks together, and
   * reports it once; retrying could not help.
   */
  private failForGood(error: Error): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.reclaimer.stopForGood();
    this.acker.close();
    this.reader.stop();
    this.deps.reads.forget(this.reader);
    this.deps.onFatal(error);
  }

  /** Stops claiming (lease renewal goes on); waits for a look under way. */
  stopClaiming(): Promise<void> {
    return this.reclaimer.stopClaiming();
  }

  /**
   * Waits for running handlers until `deadline`, releases the ones still
   * running for immediate pickup by other consumers, then flushes acks.
   */
  async finish(deadline: number): Promise<void> {
    const { scope } = this;
    const { server } = this.deps;
    await waitUntil(scope.slots.whenIdle(), deadline);
    // Renewal must stop before the release below, or it would undo it.
    this.reclaimer.stopLeases();
    const unfinished = this.processor.inFlight.entries();
    if (unfinished.length > 0) {
      scope.logger.warn(
        `${scope.logPrefix} ${unfinished.length} handler(s) still running after shutdownTimeoutMs (${server.shutdownTimeoutMs} ms); releasing their entries to the group.`,
      );
      const reason = new Error(
        `the server closed before the handler finished (shutdownTimeoutMs ${server.shutdownTimeoutMs} ms); its entry was released to the group`,
      );
      for (const entry of unfinished) entry.abort(reason);
      await this.release(unfinished.map((entry) => entry.id));
      for (const entry of unfinished) entry.released();
    }
    await this.acker.drain(Math.max(deadline, Date.now() + 1_000));
    this.acker.close();
    try {
      await scope.scripts.deleteConsumerIfIdle(scope.stream, scope.group, scope.consumer);
    } catch (error) {
      scope.logger.debug?.(`Consumer cleanup on close skipped: ${describeError(error)}`);
    }
  }

  private async release(ids: string[]): Promise<void> {
    const { scope } = this;
    try {
      // Claimable at once, so another consumer takes them on its next scan
      // instead of waiting for claimIdleMs.
      await makeClaimableAfter(scope, ids, 0);
    } catch (error) {
      scope.logger.warn(
        `${scope.logPrefix} could not release unfinished entries (${describeError(error)}); they stay pending on "${scope.consumer}" until claimIdleMs passes.`,
      );
    }
  }
}
