import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Cluster, Redis } from 'ioredis';
import { describeError } from '../errors/describe-error.js';
import { StreamConfigurationError } from '../errors/stream-configuration.error.js';
import type { RedisStreamsFailure, RedisStreamsHealthSnapshot } from '../interfaces/health.interface.js';
import { StatusClock } from '../connection/status-clock.js';
import type { RedisStreamsEvents } from '../interfaces/events.interface.js';
import type { RedisStreamsServerOptions } from '../interfaces/server-options.interface.js';
import { RedisStreamsStatus } from '../interfaces/status.enum.js';
import { resolveServerOptions, type ResolvedServerOptions } from '../options/resolve-server-options.js';
import { checkDeadLetterSlots } from '../options/cluster-keys.js';
import { clusterKeyPrefix, isClusterConnection } from '../options/connection-option.js';
import { REDIS_STREAMS_TRANSPORT } from '../constants.js';
import { ConnectionSet } from '../connection/connection-set.js';
import { ForwardedEvents } from '../connection/forwarded-events.js';
import { GroupConsumer } from '../consumers/stream-group/group-consumer.js';
import { bindStreams, checkKeyPrefix } from './stream-binding.js';
import { keyPrefixOf } from '../routing/key-prefix.js';
import { runPreflight } from '../consumers/stream-group/preflight.js';
import type { HandlerInvoker } from '../consumers/stream-group/entry-processor.js';
import { awaitHandlerResult } from '../delivery/handler-result.js';

/**
 * The clients `unwrap()` returns: the command connection, and the blocking
 * connections with the streams each one reads.
 *
 * Streams that can be read together share one blocking `XREADGROUP` and so
 * one connection: on one Redis, all bound streams whose `blockMs` and
 * `min(batchSize, concurrency)` agree (by default, all of them), so a server
 * usually has two connections however many streams it reads.
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
   * One entry per blocking connection: the connection, and the bound streams it
   * reads (in binding order). On a cluster, streams of one hash slot share one,
   * to the master serving that slot.
   */
  readonly readers: ReadonlyArray<{ readonly connection: Redis; readonly streams: readonly string[] }>;
}

/**
 * NestJS transport strategy that binds `@EventPattern('stream:<key>')` handlers
 * to a Redis consumer group and delivers entries at least once.
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
  private closing: Promise<void> | undefined;
  private hasProcessingHooks = false;
  private readonly events = new ForwardedEvents();
  private readonly statusClock = new StatusClock(this._status$);
  private readonly failures: RedisStreamsFailure[] = [];
  private boundStreams: RedisStreamsHealthSnapshot['streams'] = [];

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
    const options = resolveServerOptions(this.rawOptions);
    this.options = options;
    const bindings = bindStreams(this.messageHandlers, options, this.logger);
    checkKeyPrefix(bindings, keyPrefixOf(options.connection));
    if (bindings.length === 0) {
      this.logger.warn('No @EventPattern("stream:<key>") handlers found; nothing to read.');
    }
    const deadLetters = bindings.map(({ pattern, stream, options: streamOptions }) => ({
      pattern,
      stream,
      deadLetterStream: streamOptions.deadLetterStream(stream),
    }));
    this.boundStreams = deadLetters.map(({ stream, deadLetterStream }) => ({ stream, deadLetterStream }));
    if (isClusterConnection(options.connection)) checkDeadLetterSlots(deadLetters, clusterKeyPrefix(options.connection));
    const connections = new ConnectionSet(options, this.logger, (status) => this._status$.next(status), this.events);
    this.connections = connections;
    await connections.openCommands();
    await runPreflight(connections.commands, {
      group: options.group,
      consumer: options.consumer,
      missingStream: options.missingStream,
      streams: deadLetters,
      connectionNames: [connections.nameOf('commands'), connections.nameOf('read')],
    });
    const consumer = await GroupConsumer.open({
      bindings,
      server: options,
      connections,
      logger: this.logger,
      invokerOf: (binding) => this.createInvoker(binding.handler),
      onFatal: (error) => this.onFatal(error),
    });
    this.consumer = consumer;
    consumer.start();
    this._status$.next(RedisStreamsStatus.CONNECTED);
    this.logger.log(
      `Consumer "${options.consumer}" of group "${options.group}" reading ${bindings.map((b) => `"${b.stream}"`).join(', ') || 'no streams'}.`,
    );
  }

  /** Resolves the handler once; the hot path never looks up routes per entry. */
  private createInvoker(handler: MessageHandler): HandlerInvoker {
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
      stream: error instanceof StreamConfigurationError ? error.stream : undefined,
      message: error.message,
      at: Date.now(),
    });
    this.logger.error(`Stopped reading: ${error.message}`);
    // Other streams go on; the status says that not everything is being read.
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
  }

  private async stopEverything(shutdownTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + shutdownTimeoutMs;
    this.connections?.markClosing();
    try {
      await this.consumer?.stopReading();
      await this.consumer?.finish(deadline);
    } catch (error) {
      this.logger.error(`Shutdown did not finish cleanly: ${describeError(error)}`);
    } finally {
      await this.connections?.closeAll();
      if (this.connections !== undefined) this._status$.next(RedisStreamsStatus.DISCONNECTED);
    }
  }
}
