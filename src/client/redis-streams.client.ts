import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Cluster, Redis } from 'ioredis';
import { from, type Observable } from 'rxjs';
import { encodeEntry, type FieldValue } from '../codec/stream-codec.js';
import { encodeListEntry } from '../codec/list-codec.js';
import { ClientClosedError } from '../errors/client-closed.error.js';
import { EmitQueueFullError } from '../errors/emit-queue-full.error.js';
import { EmitTimeoutError } from '../errors/emit-timeout.error.js';
import { RedisCommandError } from '../errors/redis-command.error.js';
import { redactError } from '../errors/redact.js';
import { ReplyTimeoutError } from '../errors/reply-timeout.error.js';
import { describeError } from '../errors/describe-error.js';
import type { RedisStreamsClientOptions } from '../interfaces/client-options.interface.js';
import type { RedisStreamsEvents } from '../interfaces/events.interface.js';
import { RedisStreamsStatus } from '../interfaces/status.enum.js';
import type { RedisStreamsHealthSnapshot } from '../interfaces/health.interface.js';
import { StatusClock } from '../connection/status-clock.js';
import { resolveClientOptions, type ResolvedClientOptions } from '../options/resolve-client-options.js';
import { EmitRoutes } from '../routing/emit-routes.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { keyPrefixOf } from '../routing/key-prefix.js';
import { describeConnection, describeTarget } from '../connection/connection-target.js';
import { ForwardedEvents } from '../connection/forwarded-events.js';
import { connectWithin, createClient, quitQuietly, type RedisClient } from '../connection/redis-connection.js';
import { isCluster } from '../connection/redis-client.js';
import { EmitQueue } from './emit-queue.js';
import { OutageWatch } from './outage-watch.js';
import { untilEnded } from './until-ended.js';
import { coalesceWrites } from '../connection/coalesce-writes.js';
import type { ReplyCallback } from './pending-requests.js';
import { RequestChannel, type RequestPacket } from './request-channel.js';
import { openClientTelemetry } from '../telemetry/open-telemetry.js';
import { NOOP_SEND_TELEMETRY, type SendTelemetry } from '../telemetry/telemetry.js';

/**
 * Producer side: `emit('stream:<key>', payload)` appends an entry with XADD and
 * resolves with its id; `emit('list:<key>', payload)` pushes it to a list
 * queue with RPUSH and resolves with the list's new length;
 * `send('stream:<key>', payload)` appends a request and emits the replies of
 * the `@MessagePattern` handler that answers it, read from this client's own
 * reply stream (see ReplyListener).
 *
 * While Redis is not connected (not reached yet, down, restarting), emits wait
 * in a bounded queue (`maxQueuedEmits`) for up to `emitTimeoutMs`, and are
 * written in order once it is back.
 *
 * @example
 * ```ts
 * ClientsModule.register([{ name: 'ORDERS', customClass: RedisStreamsClient,
 *   options: { connection: 'redis://localhost:6379', maxLen: 100_000 } }]);
 * const id = await lastValueFrom(this.orders.emit('stream:orders', order));
 * ```
 */
// Status is typed `string` (values from RedisStreamsStatus) so that ClientsModule.register accepts the class.
export class RedisStreamsClient extends ClientProxy<RedisStreamsEvents> {
  private readonly logger = new Logger(RedisStreamsClient.name);
  private readonly options: ResolvedClientOptions;
  /** Where Redis is, without credentials, for errors. */
  private target: string;
  /** The ioredis client (a `Cluster` on a Redis Cluster), from the start of connecting until close(). */
  private redis: RedisClient | undefined;
  private outage: OutageWatch | undefined;
  private connecting: Promise<RedisClient> | undefined;
  private closing: Promise<void> | undefined;
  private readonly queue: EmitQueue;
  /** The `on()` listeners, kept for every connection this client opens, including those after a close(). */
  private readonly events = new ForwardedEvents();
  /** The routes written to, each pattern checked once (against the connection's ioredis `keyPrefix` too). */
  private readonly emitRoutes: EmitRoutes;
  private readonly statusClock = new StatusClock(this._status$);
  /** The request side (send()) of the connection: made by its first send(), ended by close(). */
  private requests: RequestChannel | undefined;
  /** When the connection was lost (epoch ms), while it is. */
  private disconnectedAt: number | undefined;
  /** `send` spans and the sent counter; undefined until loaded by the first connect() or emit. */
  private telemetry: SendTelemetry | undefined;
  private loadingTelemetry: Promise<SendTelemetry> | undefined;
  /** Emits waiting for the telemetry to load: later ones wait too, so that the order holds. */
  private waitingForTelemetry = 0;

  constructor(options?: RedisStreamsClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.target = describeConnection(this.options.connection);
    this.emitRoutes = new EmitRoutes(keyPrefixOf(this.options.connection));
    const { emitTimeoutMs, maxQueuedEmits } = this.options;
    this.queue = new EmitQueue(
      maxQueuedEmits,
      emitTimeoutMs,
      (emit) => new EmitTimeoutError(this.target, emit.stream, emitTimeoutMs, 'no'),
    );
    this.initializeSerializer(this.options.serializer ? { serializer: this.options.serializer } : undefined);
    const { metrics, traces } = this.options.telemetry;
    if (!metrics && !traces) this.telemetry = NOOP_SEND_TELEMETRY;
  }

  /**
   * Connects once; every later call returns the same promise.
   *
   * @throws RedisConnectionError when Redis does not answer within `connectTimeoutMs`
   * @throws ClientClosedError when close() is called first
   */
  connect(): Promise<Redis | Cluster> {
    if (this.closing !== undefined) return Promise.reject(new ClientClosedError(this.target, 'connect()'));
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /**
   * Disconnects, also from a connection still being set up, and fails the
   * emits waiting for one with a `ClientClosedError`. Repeat calls during a
   * close get the same promise; once closed, a later emit or connect() opens
   * a new connection.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  /** What the client says about its health (see `RedisStreamsServer.healthSnapshot()`). */
  healthSnapshot(): RedisStreamsHealthSnapshot {
    return {
      kind: 'client',
      status: this.statusClock.status,
      statusSince: this.statusClock.since,
      isClosing: this.closing !== undefined,
      failures: [],
      group: undefined,
      streams: [],
      commands: this.redis,
    };
  }

  /**
   * The ioredis client; available once connect() (or a first emit) has
   * started connecting. On a Redis Cluster it is a `Cluster`: `unwrap<Cluster>()`.
   */
  unwrap<T = Redis>(): T {
    if (this.redis === undefined) {
      throw new Error('Not initialized. Call connect() (or emit once) before unwrap().');
    }
    return this.redis as T;
  }

  /**
   * Forwards an ioredis event of the client's connection: of the one open now
   * and of every one opened later (after close(), a later emit or connect()
   * opens a new one).
   */
  override on<EventKey extends keyof RedisStreamsEvents>(event: EventKey, callback: RedisStreamsEvents[EventKey]): void {
    this.events.on(event, callback);
  }

  /**
   * Appends `data` to the stream named by `pattern` (`stream:<key>`), or
   * pushes it to the tail of the list queue (`list:<key>`, RPUSH); the
   * Observable emits the new entry's id (a list: its new length), or errors with a `RedisCommandError`
   * (Redis refused the XADD), an `EmitTimeoutError` or an `EmitQueueFullError`.
   * Like Nest's own `emit`, the write happens whether or not anyone subscribes.
   */
  override emit<TResult = string, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return super.emit<TResult, TInput>(pattern, data);
    }
    // One promise per emit instead of Nest's defer/mergeMap/connectable chain:
    // the producer's hot path is this call.
    const sending = this.dispatchEvent<TResult>(this.createPacket(pattern, data));
    sending.catch(() => undefined);
    return from(sending);
  }

  /**
   * The packet of one emit, once the dispatch hook (`setOnDispatchHook`, NestJS
   * 12) has set its metadata. NestJS 11's `ClientProxy` has neither this method
   * nor the hook, so it is written out here: the same packet on both.
   */
  protected override createPacket<TInput>(pattern: unknown, data: TInput): ReadPacket {
    const packet: ReadPacket = { pattern, data };
    this.onDispatchHook?.(packet);
    return packet;
  }

  /**
   * Writes a request (our fields plus its correlation id, this client's reply
   * stream and its deadline) and routes its replies to `callback`; NestJS'
   * `send()` calls it once connected. The returned teardown (the caller
   * unsubscribed) forgets the request.
   */
  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let stream: string;
    let request: RequestPacket;
    try {
      request = this.assignPacketId(packet);
      const route = this.emitRoutes.of(packet.pattern, 'send()');
      if (route.kind !== 'stream') {
        throw new InvalidOptionsError(
          'pattern',
          `send() needs a "stream:<key>" pattern (request-reply runs over streams); got ${JSON.stringify(packet.pattern)}`,
        );
      }
      stream = route.key;
    } catch (error) {
      callback({ err: error, isDisposed: true });
      return () => undefined;
    }
    this.requests ??= this.createRequests();
    return this.requests.start(stream, request, callback);
  }

  private createRequests(): RequestChannel {
    const { connection, connectTimeoutMs, replyTimeoutMs } = this.options;
    return new RequestChannel({
      connection,
      connectTimeoutMs,
      replyTimeoutMs,
      logger: this.logger,
      events: this.events,
      routes: this.routingMap as Map<string, ReplyCallback>,
      connect: () => this.connect(),
      current: () => this.redis,
      write: (stream, fields) => {
        const redis = this.redis;
        const written =
          redis !== undefined && redis.status === 'ready' && this.queue.size === 0
            ? this.append(redis, 'stream', stream, fields)
            : this.enqueue('stream', stream, fields);
        return written as Promise<string>;
      },
      serialize: (request) => this.serializer.serialize(request) as RequestPacket,
      telemetry: () => this.telemetry ?? NOOP_SEND_TELEMETRY,
      timedOut: (stream) =>
        new ReplyTimeoutError(stream, replyTimeoutMs, this.disconnectedAt === undefined ? undefined : Date.now() - this.disconnectedAt),
    });
  }

  protected dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const { telemetry } = this;
    if (telemetry === undefined || this.waitingForTelemetry > 0) return this.dispatchOnceTelemetry<T>(packet);
    return this.dispatchWith<T>(telemetry, packet);
  }

  private dispatchWith<T>(telemetry: SendTelemetry, packet: ReadPacket): Promise<T> {
    let kind: 'stream' | 'list';
    let stream: string;
    let data: unknown;
    let metadata: Record<string, unknown> | undefined;
    try {
      const route = this.emitRoutes.of(packet.pattern);
      kind = route.kind;
      stream = route.key;
      const serialized = this.serializer.serialize(packet) as ReadPacket & { metadata?: Record<string, unknown> };
      data = serialized.data;
      metadata = serialized.metadata ?? packet.metadata;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!telemetry.isOn) return this.write<T>(kind, stream, data, metadata);
    return telemetry.send(stream, metadata, (carried) => this.write<T>(kind, stream, data, carried));
  }

  /** An emit before the telemetry is loaded (the first ones, before connect()): dispatched once it is, in order. */
  private dispatchOnceTelemetry<T>(packet: ReadPacket): Promise<T> {
    this.waitingForTelemetry += 1;
    // Every waiting emit continues from this one promise, so in the order they were made.
    return this.loadTelemetry().then((telemetry) => {
      this.waitingForTelemetry -= 1;
      return this.dispatchWith<T>(telemetry, packet);
    });
  }

  /** Loads the telemetry once (see openClientTelemetry). */
  private loadTelemetry(): Promise<SendTelemetry> {
    this.loadingTelemetry ??= openClientTelemetry(this.options.telemetry).then((telemetry) => {
      this.telemetry = telemetry;
      return telemetry;
    });
    return this.loadingTelemetry;
  }

  /** Encodes an emit and appends it, or queues it while Redis is not connected. */
  private write<T>(kind: 'stream' | 'list', stream: string, data: unknown, metadata: Record<string, unknown> | undefined): Promise<T> {
    let fields: FieldValue[];
    try {
      fields = kind === 'list' ? [encodeListEntry(data, metadata)] : encodeEntry(data, metadata);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // The hot path: connected, nothing queued before this emit (which keeps
    // the order), no timer and no extra async step.
    const redis = this.redis;
    if (redis !== undefined && redis.status === 'ready' && this.queue.size === 0) {
      return this.append(redis, kind, stream, fields) as Promise<T>;
    }
    return this.enqueue(kind, stream, fields) as Promise<T>;
  }

  /** Holds an emit until the connection is ready; it is never handed to ioredis' own offline queue. */
  private enqueue(kind: 'stream' | 'list', stream: string, fields: FieldValue[]): Promise<string | number> {
    if (this.closing !== undefined) return Promise.reject(new ClientClosedError(this.target, 'emit()'));
    // A failed first connect fails the queued emits itself (open()).
    if (this.redis === undefined) this.connect().catch(() => undefined);
    const queued = this.queue.add(kind, stream, fields);
    return queued ?? Promise.reject(new EmitQueueFullError(this.target, stream, this.options.maxQueuedEmits));
  }

  /** Writes the queued emits, oldest first, in one socket write. */
  private flushQueue(redis: RedisClient): void {
    if (redis !== this.redis || redis.status !== 'ready') return;
    for (const emit of this.queue.takeAll()) {
      this.append(redis, emit.kind, emit.stream, emit.fields).then(emit.resolve, emit.reject);
    }
  }

  /** XADD to a stream (resolves with the entry id), or RPUSH to a list (with the list's new length). */
  private append(redis: RedisClient, kind: 'stream' | 'list', stream: string, fields: FieldValue[]): Promise<string | number> {
    coalesceWrites(redis);
    const { maxLen } = this.options;
    let added: Promise<string | number | null>;
    if (kind === 'list') added = redis.rpush(stream, fields[0]!);
    else added = maxLen === undefined ? redis.xadd(stream, '*', ...fields) : redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fields);
    return (added as Promise<string | number>).catch((error: unknown) => {
      throw this.emitFailure(error, stream);
    });
  }

  /**
   * What a failed XADD rejects with: ioredis' errors carry the command's
   * arguments (the payload), so only a redacted copy leaves the client.
   */
  private emitFailure(error: unknown, stream: string): Error {
    const redacted = redactError(error, stream);
    if (redacted instanceof RedisCommandError) return redacted;
    if (this.closing !== undefined) return new ClientClosedError(this.target, 'emit()', { cause: redacted });
    if (this.outage?.hasOutlasted === true) {
      return new EmitTimeoutError(this.target, stream, this.options.emitTimeoutMs, 'unknown', { cause: redacted });
    }
    return redacted;
  }

  private async open(): Promise<RedisClient> {
    const redis = createClient(this.options.connection, {
      connectionName: 'nrs:producer',
      // Measured: ioredis' auto-pipelining costs more per emit than it saves
      // here; coalesceWrites() gives one write per turn instead.
      enableAutoPipelining: false,
      // emitTimeoutMs bounds the wait (EmitQueue, OutageWatch); ioredis' own
      // limit (20 reconnect attempts, ~73 s) would only fail later.
      maxRetriesPerRequest: null,
    });
    this.redis = redis;
    this.target = describeTarget(redis);
    // On a cluster, ioredis itself gives up on a command after maxRedirections
    // retries (a node lost, a failover under way), so nothing waits unbounded there.
    const outage = isCluster(redis) ? undefined : new OutageWatch(redis, this.options.emitTimeoutMs);
    this.outage = outage;
    this.events.attach(redis);
    redis.on('error', (error: Error) => this.logger.warn(`Redis producer connection: ${describeError(error)}`));
    redis.on('ready', () => {
      this.disconnectedAt = undefined;
      this._status$.next(RedisStreamsStatus.CONNECTED);
      this.flushQueue(redis);
    });
    redis.on('reconnecting', () => this._status$.next(RedisStreamsStatus.RECONNECTING));
    redis.on('close', () => {
      this.disconnectedAt ??= Date.now();
    });
    try {
      await Promise.all([connectWithin(redis, this.options.connectTimeoutMs), this.loadTelemetry()]);
    } catch (error) {
      this.events.detach(redis);
      if (redis !== this.redis) throw new ClientClosedError(this.target, 'connect()', { cause: error });
      this.redis = undefined;
      this.outage = undefined;
      const failure = error instanceof Error ? error : new Error(describeError(error));
      this.queue.failAll(failure);
      throw failure;
    }
    if (redis !== this.redis) throw new ClientClosedError(this.target, 'connect()');
    outage?.start();
    this._status$.next(RedisStreamsStatus.CONNECTED);
    return redis;
  }

  private async shutDown(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    this.connecting = undefined;
    this.outage?.stop();
    this.outage = undefined;
    this.queue.failAll(new ClientClosedError(this.target, 'emit()'));
    const requests = this.requests;
    this.requests = undefined;
    this.disconnectedAt = undefined;
    await requests?.close(new ClientClosedError(this.target, 'send()'));
    if (redis === undefined) return;
    this.events.detach(redis);
    await quitQuietly(redis);
    if (!(await untilEnded(redis, CLOSE_WAIT_MS))) {
      this.logger.warn(`Redis producer connection to ${this.target} did not end within ${CLOSE_WAIT_MS} ms of close()`);
    }
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
  }
}

/** How long close() waits for the connection to end after asking it to. */
const CLOSE_WAIT_MS = 1_000;
