import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Cluster, Redis } from 'ioredis';
import { describeError } from '../errors/describe-error.js';
import { StreamConfigurationError } from '../errors/stream-configuration.error.js';
import { ListConfigurationError } from '../errors/list-configuration.error.js';
import type { RedisStreamsFailure, RedisStreamsHealthSnapshot } from '../interfaces/health.interface.js';
import { StatusClock } from '../connection/status-clock.js';
import type { RedisStreamsEvents } from '../interfaces/events.interface.js';
import type { RedisStreamsServerOptions } from '../interfaces/server-options.interface.js';
import { RedisStreamsStatus } from '../interfaces/status.enum.js';
import { resolveServerOptions, type ResolvedServerOptions } from '../options/resolve-server-options.js';
import { checkDeadLetterSlots, checkListSlots } from '../options/cluster-keys.js';
import { clusterKeyPrefix, isClusterConnection } from '../options/connection-option.js';
import { REDIS_STREAMS_TRANSPORT } from '../constants.js';
import { ConnectionSet } from '../connection/connection-set.js';
import { ForwardedEvents } from '../connection/forwarded-events.js';
import { BroadcastConsumer } from '../consumers/broadcast/broadcast-consumer.js';
import { GroupConsumer } from '../consumers/stream-group/group-consumer.js';
import { bindStreams, checkKeyPrefix } from './stream-binding.js';
import { bindLists, checkListKeyPrefix } from './list-binding.js';
import { ListConsumer } from '../consumers/list-queue/list-consumer.js';
import { checkListKeys, listProbes, type ListCheck } from '../consumers/list-queue/list-preflight.js';
import { keyPrefixOf } from '../routing/key-prefix.js';
import { runPreflight } from '../consumers/stream-group/preflight.js';
import type { HandlerInvoker } from '../context/handler-invoker.js';
import { awaitHandlerResult } from '../delivery/handler-result.js';
import type { RedisStreamsContext } from '../context/redis-streams.context.js';
import { RequestResponder } from './request-responder.js';
import { captureHandlerErrors } from './handler-error-capture.js';
import { openServerTelemetry } from '../telemetry/open-telemetry.js';
import { NOOP_SERVER_TELEMETRY, type ServerTelemetry } from '../telemetry/telemetry.js';
import { listKeysOf } from '../routing/key-names.js';

/**
 * The clients `unwrap()` returns: the command connection, the blocking
 * connections with the streams each one reads, and one blocking connection
 * per bound list queue (its `BLMOVE` waits there).
 *
 * Streams that can be read together share one blocking `XREADGROUP` and so
 * one connection: on one Redis, all bound streams whose `blockMs` and
 * `min(batchSize, concurrency)` agree (by default, all of them), so a server
 * usually has two connections however many streams it reads. Broadcast
 * streams (`{ broadcast: true }`) share blocking `XREAD`s the same way, on
 * connections of their own (`mode: 'broadcast'`): a third connection.
 *
 * @example
 * ```ts
 * const { commands, readers } = server.unwrap<RedisStreamsServerClients>();
 * await commands.ping();
 * const reader = readers.find((r) => r.streams.includes('orders'))?.connection;
 * ```
 */
export interface RedisStreamsServerClients {
  /** Shared connection for acks, claims, group management, and backlog reads while the blocking connection waits: a `Cluster` on a Redis Cluster. */
  readonly commands: Redis | Cluster;
  /**
   * One entry per blocking connection: the connection, the bound streams it
   * reads (in binding order), and how: `group` (XREADGROUP, named
   * `nrs:<group>:<consumer>:read`) or `broadcast` (XREAD, named
   * `nrs:<group>:<consumer>:broadcast`). On a cluster, streams of one hash
   * slot share one, to the master serving that slot.
   */
  readonly readers: ReadonlyArray<{
    readonly connection: Redis;
    readonly streams: readonly string[];
    readonly mode: 'group' | 'broadcast';
  }>;
  /**
   * One entry per bound list queue (`@EventPattern('list:<key>')`): the
   * connection its `BLMOVE` blocks on while the list is empty, and the list.
   * On a cluster, to the master serving the list's slot. Empty without list queues.
   */
  readonly listReaders: ReadonlyArray<{ readonly connection: Redis; readonly list: string }>;
}

/**
 * NestJS transport strategy that binds `@EventPattern('stream:<key>')` handlers
 * to a Redis consumer group and delivers entries at least once, and answers
 * requests (`client.send()`) with `@MessagePattern('stream:<key>')` handlers
 * read through the same group, one answer per request; handlers with
 * `{ broadcast: true }` read their stream without a group, every instance
 * every entry, at most once per instance; `@EventPattern('list:<key>')`
 * handlers consume a Redis list as a work queue, at least once.
 *
 * @example
 * ```ts
 * app.connectMicroservice({
 *   strategy: new RedisStreamsServer({ connection: 'redis://localhost:6379', group: 'billing' }),
 * });
 * ```
 */
export class RedisStreamsServer extends Server<RedisStreamsEvents, RedisStreamsStatus> implements CustomTransportStrategy {
  override readonly transportId = REDIS_STREAMS_TRANSPORT;
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RedisStreamsServer.name);

  private options: ResolvedServerOptions | undefined;
  private connections: ConnectionSet | undefined;
  private consumer: GroupConsumer | undefined;
  private broadcast: BroadcastConsumer | undefined;
  private listConsumer: ListConsumer | undefined;
  private closing: Promise<void> | undefined;
  private hasProcessingHooks = false;
  private readonly events = new ForwardedEvents();
  private readonly statusClock = new StatusClock(this._status$);
  private readonly failures: RedisStreamsFailure[] = [];
  private boundStreams: RedisStreamsHealthSnapshot['streams'] = [];
  private telemetry: ServerTelemetry = NOOP_SERVER_TELEMETRY;

  /**
   * @param rawOptions - validated when `listen()` runs, so that a bad option
   *   fails the app's start with a clear error
   */
  constructor(private readonly rawOptions: RedisStreamsServerOptions) {
    super();
  }

  /** Connects, creates the groups and starts reading the bound streams. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      await this.stopEverything(0);
      callback(error);
      return;
    }
    callback();
  }

  /**
   * Stops reading, waits up to `shutdownTimeoutMs` for running handlers,
   * flushes acks and disconnects. Every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.stopEverything(this.options?.shutdownTimeoutMs ?? 0);
    return this.closing;
  }

  /** Forwards an ioredis event from every connection this server opens. */
  on<EventKey extends keyof RedisStreamsEvents>(event: EventKey, callback: RedisStreamsEvents[EventKey]): void {
    this.events.on(event, callback);
  }

  /**
   * What the server says about its health: status and since when, whether it
   * is closing, readers stopped on an error, its streams. The health
   * indicator (`nestjs-redis-streams/terminus`) judges it.
   */
  healthSnapshot(): RedisStreamsHealthSnapshot {
    return {
      kind: 'server',
      status: this.statusClock.status,
      statusSince: this.statusClock.since,
      isClosing: this.closing !== undefined,
      failures: [...this.failures],
      group: this.options?.group,
      streams: this.boundStreams,
      commands: this.connections?.commands,
    };
  }

  /** The ioredis clients; available once listening. */
  unwrap<T = RedisStreamsServerClients>(): T {
    if (this.connections === undefined) {
      throw new Error('Not initialized. Call listen() (or app.startAllMicroservices()) before unwrap().');
    }
    return this.connections.clients() as T;
  }

  override setOnProcessingStartHook(hook: (transportId: symbol | number, context: unknown, done: () => Promise<unknown>) => void): void {
    this.hasProcessingHooks = true;
    super.setOnProcessingStartHook(hook);
  }

  override setOnProcessingEndHook(hook: (transportId: symbol | number, context: unknown) => void): void {
    this.hasProcessingHooks = true;
    super.setOnProcessingEndHook(hook);
  }

  private async start(): Promise<void> {
    captureHandlerErrors();
    const options = resolveServerOptions(this.rawOptions);
    this.options = options;
    const telemetry = await openServerTelemetry(options.telemetry);
    this.telemetry = telemetry;
    // Connections and every loop start outside the caller's trace context.
    await telemetry.detached(() => this.open(options, telemetry));
  }

  /** Connects, checks, creates the groups and starts the consumers of every mode. */
  private async open(options: ResolvedServerOptions, telemetry: ServerTelemetry): Promise<void> {
    const bound = bindStreams(this.messageHandlers, options, this.logger);
    const bindings = bound.group;
    const listBindings = bindLists(this.messageHandlers, options, this.logger);
    checkKeyPrefix(bound, keyPrefixOf(options.connection));
    checkListKeyPrefix(listBindings, keyPrefixOf(options.connection));
    if (bindings.length === 0 && bound.broadcast.length === 0 && listBindings.length === 0) {
      this.logger.warn(
        'No @EventPattern("stream:<key>"), @MessagePattern("stream:<key>") or @EventPattern("list:<key>") handlers found; nothing to read.',
      );
    }
    const deadLetters = bindings.map(({ pattern, stream, options: streamOptions }) => ({
      pattern,
      stream,
      deadLetterStream: streamOptions.deadLetterStream(stream),
    }));
    this.boundStreams = deadLetters.map(({ stream, deadLetterStream }) => ({ stream, deadLetterStream }));
    const lists: ListCheck[] = listBindings.map(({ list, options: listOptions }) => ({
      list,
      consumer: options.consumer,
      deadLetterStream: listOptions.deadLetterStream(list),
      claimIdleMs: listOptions.claimIdleMs,
    }));
    if (isClusterConnection(options.connection)) {
      const keyPrefix = clusterKeyPrefix(options.connection);
      const listRoutes = listBindings.map(({ pattern, list }, i) => ({
        pattern,
        list,
        consumer: options.consumer,
        stream: list,
        deadLetterStream: lists[i]!.deadLetterStream,
      }));
      checkDeadLetterSlots([...deadLetters, ...listRoutes], keyPrefix);
      checkListSlots(listRoutes, keyPrefix);
    }
    const connections = new ConnectionSet(options, this.logger, (status) => this._status$.next(status), this.events);
    this.connections = connections;
    await connections.openCommands();
    const responder = new RequestResponder({
      server: this,
      commands: () => connections.commands,
      scripts: () => connections.scripts,
      logger: this.logger,
      hasHooks: () => this.hasProcessingHooks,
      withHooks: (context, work) => this.withHooks(context, work),
    });
    await runPreflight(connections.commands, {
      group: options.group,
      consumer: options.consumer,
      missingStream: options.missingStream,
      streams: deadLetters,
      broadcastStreams: bound.broadcast.map((binding) => binding.stream),
      connectionNames: [
        connections.nameOf('commands'),
        connections.nameOf('read'),
        connections.nameOf('broadcast'),
        connections.nameOf('list'),
      ],
      extraProbes: listProbes(lists),
    });
    await checkListKeys(connections.commands, lists);
    const consumer = await GroupConsumer.open({
      bindings,
      server: options,
      connections,
      logger: this.logger,
      invokerOf: (binding) => this.createInvoker(binding.handler, responder),
      telemetry,
      onFatal: (error) => this.onFatal(error),
    });
    this.consumer = consumer;
    const broadcast = await BroadcastConsumer.open({
      bindings: bound.broadcast,
      server: options,
      connections,
      logger: this.logger,
      invokerOf: (binding) => this.createInvoker(binding.handler, responder),
      telemetry,
      onFatal: (error) => this.onFatal(error),
    });
    this.broadcast = broadcast;
    const listConsumer = await ListConsumer.open({
      bindings: listBindings,
      server: options,
      connections,
      logger: this.logger,
      invokerOf: (binding) => this.createInvoker(binding.handler, responder),
      telemetry,
      onFatal: (error) => this.onFatal(error),
    });
    this.listConsumer = listConsumer;
    consumer.start();
    broadcast.start();
    listConsumer.start();
    telemetry.watchGauges(
      connections.commands,
      {
        group: options.group,
        consumer: options.consumer,
        streams: this.boundStreams,
        broadcastStreams: bound.broadcast.map((binding) => binding.stream),
        lists: lists.map(({ list, deadLetterStream }) => {
          const { processing, retry } = listKeysOf(list, options.consumer);
          return { list, processing, retry, deadLetterStream };
        }),
      },
      this.logger,
    );
    this._status$.next(RedisStreamsStatus.CONNECTED);
    const named = (list: ReadonlyArray<{ stream: string }>): string => list.map((b) => `"${b.stream}"`).join(', ');
    const broadcastNote = bound.broadcast.length > 0 ? `; broadcast reads of ${named(bound.broadcast)}` : '';
    const listNote = listBindings.length === 0 ? '' : `; list queue(s) ${listBindings.map((b) => `"${b.list}"`).join(', ')}`;
    this.logger.log(
      `Consumer "${options.consumer}" of group "${options.group}" reading ${named(bindings) || 'no streams'}${broadcastNote}${listNote}.`,
    );
  }

  /**
   * Resolves the handler once; the hot path never looks up routes per entry.
   * A request goes to the responder: to the pattern's `@MessagePattern`
   * handler, or answered with NestJS' "no matching message handler" when the
   * pattern has event handlers only. An event goes to the handler, whatever
   * its kind (as on NestJS' own transports, a message handler's result is then dropped).
   */
  private createInvoker(handler: MessageHandler, responder: RequestResponder): HandlerInvoker {
    const onEvent = this.createEventInvoker(handler);
    const messageHandler = handler.isEventHandler ? undefined : handler;
    return (data, context, request) =>
      request === undefined ? onEvent(data, context) : responder.answer(request, data, context, messageHandler);
  }

  /** Runs a request's handling inside NestJS' processing hooks, when any are set; `end` closes them. */
  private withHooks(context: RedisStreamsContext, work: (end: () => void) => Promise<void>): void {
    const failed = (error: unknown): void => this.logger.error(`Request handling failed: ${describeError(error)}`);
    if (!this.hasProcessingHooks) {
      work(() => undefined).catch(failed);
      return;
    }
    let hasEnded = false;
    const end = (): void => {
      if (hasEnded) return;
      hasEnded = true;
      this.onProcessingEndHook?.(this.transportId, context);
    };
    this.onProcessingStartHook(this.transportId, context, async () => {
      try {
        await work(end);
      } catch (error) {
        end();
        failed(error);
      }
    });
  }

  private createEventInvoker(handler: MessageHandler): HandlerInvoker {
    if (!this.hasProcessingHooks) {
      return (data, context) => handler(data, context);
    }
    return (data, context) =>
      new Promise((resolve, reject) => {
        this.onProcessingStartHook(this.transportId, context, async () => {
          try {
            const result: unknown = await handler(data, context);
            await awaitHandlerResult(result);
            resolve(undefined);
          } catch (error) {
            // Nest delivers handler failures as plain { status, message } objects.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(error);
          } finally {
            this.onProcessingEndHook?.(this.transportId, context);
          }
        });
      });
  }

  private onFatal(error: Error): void {
    this.failures.push({
      stream: error instanceof StreamConfigurationError ? error.stream : error instanceof ListConfigurationError ? error.list : undefined,
      message: error.message,
      at: Date.now(),
    });
    this.logger.error(`Stopped reading: ${error.message}`);
    // Other streams go on; the status says that not everything is being read.
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
  }

  private async stopEverything(shutdownTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + shutdownTimeoutMs;
    this.telemetry.close();
    this.connections?.markClosing();
    try {
      await Promise.all([this.consumer?.stopReading(), this.broadcast?.stopReading(), this.listConsumer?.stopReading()]);
      await Promise.all([this.consumer?.finish(deadline), this.broadcast?.finish(deadline), this.listConsumer?.finish(deadline)]);
    } catch (error) {
      this.logger.error(`Shutdown did not finish cleanly: ${describeError(error)}`);
    } finally {
      await this.connections?.closeAll();
      if (this.connections !== undefined) this._status$.next(RedisStreamsStatus.DISCONNECTED);
    }
  }
}
