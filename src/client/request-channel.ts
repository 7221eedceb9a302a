import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { ReadPacket } from '@nestjs/microservices';
import { encodeRequest, type FieldValue, type RequestAddress } from '../codec/stream-codec.js';
import { GROUP_LOOKUP_TTL_MS } from '../constants.js';
import type { ForwardedEvents } from '../connection/forwarded-events.js';
import type { RedisClient } from '../connection/redis-client.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { replyStreamKeyOf } from '../routing/key-names.js';
import { GroupLookup } from './group-lookup.js';
import { PendingRequests, type ReplyCallback } from './pending-requests.js';
import { ReplyListener } from './reply-listener.js';
import type { SendTelemetry } from '../telemetry/telemetry.js';

/** A request packet once NestJS' `assignPacketId` gave it its correlation id. */
export type RequestPacket = ReadPacket & { readonly id: string; metadata?: Record<string, unknown> };

/** What the request side of a client borrows from the client. */
export interface RequestChannelDeps {
  readonly connection: RedisConnection;
  readonly connectTimeoutMs: number;
  readonly replyTimeoutMs: number;
  readonly logger: Logger;
  readonly events: ForwardedEvents;
  /** `ClientProxy`'s routing map: correlation id → callback. */
  readonly routes: Map<string, ReplyCallback>;
  /** The client's connection once connected (connecting first if needed). */
  readonly connect: () => Promise<RedisClient>;
  /** The client's connection now, if it has one. */
  readonly current: () => RedisClient | undefined;
  /** Appends an entry (XADD now, or queued while Redis is not connected), as `emit()` does. */
  readonly write: (stream: string, fields: FieldValue[]) => Promise<string>;
  /** The client's serializer applied to a packet. */
  readonly serialize: (packet: RequestPacket) => RequestPacket;
  /** The error a request fails with when its time runs out. */
  readonly timedOut: (stream: string) => Error;
  /** The client's telemetry (`send` spans), loaded by the time a request is written. */
  readonly telemetry: () => SendTelemetry;
}

/**
 * The request side of one client connection: writes requests (our fields,
 * the correlation id, the reply stream, the deadline), opens the reply stream
 * with the first one, and routes each reply to the caller waiting for it.
 */
export class RequestChannel {
  private readonly pending: PendingRequests;
  private readonly groups: GroupLookup;
  private replies: ReplyListener | undefined;
  private openingReplies: Promise<ReplyListener> | undefined;
  private closedWith: Error | undefined;

  constructor(private readonly deps: RequestChannelDeps) {
    this.pending = new PendingRequests(deps.routes, deps.replyTimeoutMs, deps.timedOut);
    this.groups = new GroupLookup(GROUP_LOOKUP_TTL_MS, deps.logger);
  }

  /**
   * Starts request `packet` to `stream`; its replies go to `callback`.
   *
   * @returns the teardown NestJS calls when the caller unsubscribes
   */
  start(stream: string, packet: RequestPacket, callback: ReplyCallback): () => void {
    const { id } = packet;
    const teardown = this.pending.add(id, stream, callback);
    const deadline = Date.now() + this.deps.replyTimeoutMs;
    this.write(stream, packet, deadline).catch((error: unknown) => this.pending.fail(id, error));
    return teardown;
  }

  /** Fails every waiting request with `error`, stops reading replies and deletes the reply stream. */
  async close(error: Error): Promise<void> {
    this.closedWith = error;
    this.pending.failAll(error);
    const replies = this.replies ?? (await this.openingReplies?.catch(() => undefined));
    this.replies = undefined;
    this.openingReplies = undefined;
    await replies?.close();
  }

  /** The hot path writes at once: connected, reply stream open, the stream's group known. */
  private write(stream: string, packet: RequestPacket, deadline: number): Promise<unknown> {
    const redis = this.deps.current();
    const { replies } = this;
    if (redis !== undefined && replies !== undefined && this.groups.check(redis, stream) === undefined) {
      return this.send(replies, stream, packet, deadline);
    }
    return this.writeOnceReady(stream, packet, deadline);
  }

  private async writeOnceReady(stream: string, packet: RequestPacket, deadline: number): Promise<unknown> {
    const redis = await this.deps.connect();
    const replies = await this.openReplies(redis);
    await this.groups.check(redis, stream);
    // Timed out or unsubscribed meanwhile: nobody would read the answer.
    if (!this.deps.routes.has(packet.id)) return undefined;
    return this.send(replies, stream, packet, deadline);
  }

  private send(replies: ReplyListener, stream: string, packet: RequestPacket, deadline: number): Promise<unknown> {
    let serialized: RequestPacket;
    try {
      serialized = this.deps.serialize(packet);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const address = { id: packet.id, replyTo: replies.key, deadline };
    const metadata = serialized.metadata ?? packet.metadata;
    const telemetry = this.deps.telemetry();
    if (!telemetry.isOn) return this.writeRequest(stream, serialized.data, metadata, address);
    return telemetry.send(stream, metadata, (carried) => this.writeRequest(stream, serialized.data, carried, address));
  }

  private writeRequest(
    stream: string,
    data: unknown,
    metadata: Record<string, unknown> | undefined,
    address: RequestAddress,
  ): Promise<string> {
    let fields: FieldValue[];
    try {
      fields = encodeRequest(data, metadata, address);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.deps.write(stream, fields);
  }

  /** Opens the reply stream and its reader, once. */
  private openReplies(redis: RedisClient): Promise<ReplyListener> {
    this.openingReplies ??= this.createReplies(redis).catch((error: unknown) => {
      this.openingReplies = undefined;
      throw error;
    });
    return this.openingReplies;
  }

  private async createReplies(redis: RedisClient): Promise<ReplyListener> {
    const closed = this.closedError();
    if (closed !== undefined) throw closed;
    const listener = new ReplyListener({
      connection: this.deps.connection,
      commands: redis,
      key: replyStreamKeyOf(randomUUID()),
      connectTimeoutMs: this.deps.connectTimeoutMs,
      logger: this.deps.logger,
      events: this.deps.events,
      onReply: (id, packet) => this.pending.deliver(id, packet),
    });
    // Its reading loop never inherits the first request's trace context.
    await this.deps.telemetry().detached(() => listener.open());
    // close() may have run while the listener opened.
    const closedMeanwhile = this.closedError();
    if (closedMeanwhile !== undefined) {
      await listener.close();
      throw closedMeanwhile;
    }
    this.replies = listener;
    return listener;
  }

  private closedError(): Error | undefined {
    return this.closedWith;
  }
}
