import type { Logger } from '@nestjs/common';
import type { MessageHandler, WritePacket } from '@nestjs/microservices';
import { finalize, throwError, type Observable, type Subscription } from 'rxjs';
import { encodeReply, type ReplyPacket } from '../codec/reply-codec.js';
import type { FieldValue, RequestAddress } from '../codec/stream-codec.js';
import { coalesceWrites } from '../connection/coalesce-writes.js';
import { isCluster, type RedisClient } from '../connection/redis-client.js';
import type { StreamScripts } from '../connection/scripts.js';
import type { RedisStreamsContext } from '../context/redis-streams.context.js';
import { describeError } from '../errors/describe-error.js';
import { redactError } from '../errors/redact.js';

/** NestJS' answer to a request for a pattern nobody handles (its `NO_MESSAGE_HANDLER`). */
export const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/** What a responder borrows from NestJS' `Server`: its request handling. */
export interface RequestServer {
  /** `Server.send()`: subscribes to a handler's result and hands each WritePacket to `respond`, the last with `isDisposed`. */
  send(stream$: Observable<unknown>, respond: (packet: WritePacket) => Promise<unknown> | void): Subscription;
  /** `Server.transformToObservable()`: a Promise or a plain value as an Observable of one value. */
  transformToObservable(result: unknown): Observable<unknown>;
}

/** What a responder works with. */
export interface RequestResponderDeps {
  readonly server: RequestServer;
  /** The server's command connection: replies are appended there. */
  readonly commands: () => RedisClient;
  /** The scripts registered on it: a last reply and the request's ack go in one (one Redis; not a cluster). */
  readonly scripts: () => StreamScripts;
  readonly logger: Logger;
  /** Whether the app set NestJS processing hooks (then requests run inside them). */
  readonly hasHooks: () => boolean;
  /** Runs `work` inside NestJS' processing hooks; `end` closes them. */
  readonly withHooks: (context: RedisStreamsContext, work: (end: () => void) => Promise<void>) => void;
}

/**
 * Answers request entries: runs the `@MessagePattern` handler (through
 * NestJS' `Server.send()` and its WritePackets), appends each reply to the
 * caller's reply stream, and resolves once the last one is written, so that
 * the entry is acknowledged then. A handler's error is a reply like any
 * other (the caller's Observable errors with it); it is not retried. A
 * request whose caller's deadline has passed is skipped (and so acknowledged).
 */
export class RequestResponder {
  constructor(private readonly deps: RequestResponderDeps) {}

  /**
   * Answers one request.
   *
   * @param handler - the pattern's message handler; without one, NestJS' "no matching message handler" error is the answer
   * @returns resolves once the last reply is written (or the request was skipped), with `true` when
   *   that write acknowledged the request entry too; rejects when it could not be written
   */
  answer(request: RequestAddress, data: unknown, context: RedisStreamsContext, handler: MessageHandler | undefined): Promise<boolean> {
    if (Date.now() > request.deadline) {
      this.deps.logger.debug?.(
        `Request ${context.getMessageId()} of "${context.getStream()}" skipped: its caller stopped waiting ${Date.now() - request.deadline} ms ago.`,
      );
      return Promise.resolve(false);
    }
    if (handler === undefined) return this.write(request, { err: NO_MESSAGE_HANDLER, isDisposed: true }, context);
    return new Promise<boolean>((resolve, reject) => {
      const respond = (packet: WritePacket): Promise<void> => this.respond(request, packet, context, resolve, reject);
      if (!this.deps.hasHooks()) {
        // Without hooks, nothing else would see a failure of Server.send() itself: the request fails.
        this.run(handler, data, context, respond, undefined).catch(reject);
        return;
      }
      this.deps.withHooks(context, (end) => this.run(handler, data, context, respond, end));
    });
  }

  /** Runs the handler and hands its replies to NestJS' `Server.send()`; `end`, when set, closes the processing hooks. */
  private async run(
    handler: MessageHandler,
    data: unknown,
    context: RedisStreamsContext,
    respond: (packet: WritePacket) => Promise<void>,
    end: (() => void) | undefined,
  ): Promise<void> {
    let result$: Observable<unknown>;
    try {
      result$ = this.deps.server.transformToObservable(await handler(data, context));
    } catch (error) {
      result$ = throwError(() => error);
    }
    this.deps.server.send(end === undefined ? result$ : result$.pipe(finalize(end)), respond);
  }

  private async respond(
    request: RequestAddress,
    packet: WritePacket,
    context: RedisStreamsContext,
    resolve: (acked: boolean) => void,
    reject: (error: Error) => void,
  ): Promise<void> {
    const isLast = packet.isDisposed === true;
    let acked: boolean;
    try {
      acked = await this.write(request, packet, isLast ? context : undefined);
    } catch (error) {
      if (isLast) reject(error instanceof Error ? error : new Error(describeError(error)));
      else this.deps.logger.warn(`A reply to request ${request.id} could not be written (${describeError(error)}).`);
      return;
    }
    if (isLast) resolve(acked);
  }

  /**
   * Appends one reply to the caller's reply stream with `NOMKSTREAM` (a
   * client that is gone has no stream, and a late reply must not create one).
   * The client trims its stream as it reads it. The last reply (`last`: the
   * request's context) acknowledges the request in the same script on one
   * Redis; on a cluster the two keys live apart, and the entry is acked after.
   *
   * @returns whether the request entry was acknowledged with it
   */
  private async write(request: RequestAddress, packet: ReplyPacket, last?: RedisStreamsContext): Promise<boolean> {
    const commands = this.deps.commands();
    let fields: FieldValue[];
    try {
      fields = encodeReply(request.id, packet);
    } catch (error) {
      // Says what could not be encoded, never the value itself.
      const message = `the handler's reply could not be serialized (${error instanceof Error ? error.name : 'error'})`;
      fields = encodeReply(request.id, { err: { status: 'error', message }, isDisposed: true });
    }
    coalesceWrites(commands);
    const acks = last !== undefined && !isCluster(commands);
    let id: string | null;
    try {
      id = acks
        ? await this.deps.scripts().replyAndAck(request.replyTo, last.getStream(), last.getGroup(), last.getMessageId(), fields)
        : await commands.xadd(request.replyTo, 'NOMKSTREAM', '*', ...fields);
    } catch (error) {
      throw redactError(error, request.replyTo);
    }
    if (id === null) {
      this.deps.logger.debug?.(`Reply to request ${request.id} dropped: reply stream "${request.replyTo}" is gone (its client closed).`);
    }
    return acks;
  }
}
