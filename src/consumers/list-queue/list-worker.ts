import type { Logger } from '@nestjs/common';
import type { ConsumerDeserializer, MessageHandler } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import type { ListScripts } from '../../connection/list-scripts.js';
import type { RedisClient } from '../../connection/redis-client.js';
import { Slots } from '../../delivery/slots.js';
import { describeError } from '../../errors/describe-error.js';
import type { ResolvedStreamOptions } from '../../options/resolve-stream-group-options.js';
import { listKeysOf } from '../../routing/key-names.js';
import { ListAcker } from './list-acker.js';
import { ListEntryRun, type ListHandlerInvoker, type ListRunDeps } from './list-entry-run.js';
import { LeaseLostError } from '../../errors/lease-lost.error.js';
import { ListKeeper } from './list-keeper.js';
import { ListReader } from './list-reader.js';
import { createListScope, type ListScope } from './list-scope.js';
import { waitUntil } from '../../delivery/deadline.js';
import type { DeliveryTelemetry } from '../../telemetry/telemetry.js';

/** A list and the handler bound to it, resolved once at start. */
export interface ListBinding {
  readonly pattern: string;
  readonly list: string;
  readonly handler: MessageHandler;
  readonly options: ResolvedStreamOptions;
}

/** What a list worker is built from. */
export interface ListWorkerDeps {
  readonly binding: ListBinding;
  readonly group: string;
  readonly consumer: string;
  readonly deserializer: ConsumerDeserializer | undefined;
  readonly shutdownTimeoutMs: number;
  readonly commands: RedisClient;
  readonly scripts: ListScripts;
  /** The list's own blocking connection. */
  readonly blocking: Redis;
  readonly logger: Logger;
  readonly invoke: ListHandlerInvoker;
  /** The list's metrics and spans. */
  readonly telemetry: DeliveryTelemetry;
  readonly onFatal: (error: Error) => void;
}

/**
 * Everything that serves one bound list for this consumer: its reader,
 * keeper (liveness, recovery, retries), acker and handler slots, built
 * together and stopped together.
 */
export class ListWorker {
  private readonly scope: ListScope;
  private readonly acker: ListAcker;
  private readonly keeper: ListKeeper;
  private readonly reader: ListReader;
  /** Aborted when close() stops waiting for running handlers (the contexts' `signal`). */
  private readonly shutdown = new AbortController();
  /** Aborted once finished: failed settlements waiting to be tried again are dropped (the entries stay in the processing list). */
  private readonly closed = new AbortController();
  private hasFailed = false;

  constructor(private readonly deps: ListWorkerDeps) {
    const { binding, logger } = deps;
    const slots = new Slots(binding.options.concurrency);
    this.scope = createListScope({
      list: binding.list,
      group: deps.group,
      consumer: deps.consumer,
      keys: listKeysOf(binding.list, deps.consumer),
      deadLetterStream: binding.options.deadLetterStream(binding.list),
      options: binding.options,
      commands: deps.commands,
      scripts: deps.scripts,
      slots,
      logger,
      telemetry: deps.telemetry,
    });
    const onFatal = (error: Error) => this.failForGood(error);
    this.acker = new ListAcker(this.scope);
    const running = new Set<ListEntryRun>();
    this.keeper = new ListKeeper(this.scope, onFatal, () => this.loseRecovered(running));
    const runDeps: ListRunDeps = {
      running,
      scope: this.scope,
      pattern: binding.pattern,
      acker: this.acker,
      invoke: deps.invoke,
      deserializer: deps.deserializer,
      signal: this.shutdown.signal,
      retryDueIn: (delayMs) => this.keeper.retryDueIn(delayMs),
      closed: this.closed.signal,
    };
    this.reader = new ListReader(this.scope, {
      blocking: deps.blocking,
      deliver: (stored) => new ListEntryRun(runDeps, stored).start(),
      onFatal,
      drainAcks: () => this.acker.drain(Date.now() + binding.options.claimIdleMs),
      recoverOwn: () => this.keeper.recoverOwn(),
    });
    // A take whose reply a reconnect lost leaves entries nobody handles (see ListReader).
    const mark = (): void => this.reader.markOrphansPossible();
    deps.blocking.on('reconnecting', mark);
    deps.commands.on('reconnecting', mark);
  }

  /**
   * This consumer's liveness key lapsed and another consumer recovered its
   * processing list: the running entries no longer in it are someone else's.
   */
  private async loseRecovered(running: ReadonlySet<ListEntryRun>): Promise<void> {
    const runs = [...running];
    if (runs.length === 0) return;
    const { commands, keys, list, group } = this.scope;
    const pipeline = commands.pipeline();
    for (const run of runs) pipeline.lpos(keys.processing, run.stored);
    const replies = (await pipeline.exec()) ?? [];
    runs.forEach((run, i) => {
      const [error, position] = replies[i] ?? [null, null];
      if (error === null && position === null) run.loseLease(new LeaseLostError(list, group, undefined));
    });
  }

  /** The list key. */
  get list(): string {
    return this.scope.list;
  }

  /** Registers this consumer and puts its own unfinished entries back at the head of the list. */
  async open(): Promise<void> {
    const resumed = await this.keeper.open();
    if (resumed > 0) {
      this.scope.logger.log(
        `${this.scope.logPrefix} resuming ${resumed} entr${resumed === 1 ? 'y' : 'ies'} left in its processing list by its last run (put back at the head of the list).`,
      );
    }
  }

  /** Starts taking entries and the bookkeeping timers. */
  start(): void {
    this.keeper.start();
    this.reader.start();
  }

  /** Stops taking entries, ending a blocked BLMOVE. */
  stopReading(): Promise<void> {
    return this.reader.stop();
  }

  /**
   * Waits for running handlers until `deadline`, then flushes removals. Entries
   * of handlers still running stay in the processing list: this consumer
   * restarted takes them first, another takes them once its liveness key expires.
   */
  async finish(deadline: number): Promise<void> {
    const { scope } = this;
    await waitUntil(scope.slots.whenIdle(), deadline);
    const running = scope.slots.capacity - scope.slots.free;
    if (running > 0) {
      this.shutdown.abort();
      scope.logger.warn(
        `${scope.logPrefix} ${running} handler(s) still running after shutdownTimeoutMs (${this.deps.shutdownTimeoutMs} ms); their entries stay in processing list "${scope.keys.processing}" and are delivered again (to this consumer when it restarts, to another once its liveness key expires).`,
      );
    }
    await this.acker.drain(Math.max(deadline, Date.now() + 1_000));
    this.acker.close();
    this.closed.abort();
    await this.keeper.stop();
    if (running > 0 || this.hasFailed) return;
    try {
      await this.keeper.leave();
    } catch (error) {
      scope.logger.debug?.(`${scope.logPrefix} could not unregister on close (${describeError(error)}); its liveness key expires instead.`);
    }
  }

  /** The list cannot be used any more: stops its reader and bookkeeping, reports once. */
  private failForGood(error: Error): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    void this.reader.stop();
    void this.keeper.stop();
    this.deps.onFatal(error);
  }
}
