import type { WritePacket } from '@nestjs/microservices';

/** Where a request's replies go: NestJS' callback from `ClientProxy.send()`. */
export type ReplyCallback = (packet: WritePacket) => void;

/**
 * The requests waiting for replies, kept in `ClientProxy`'s own routing map
 * (correlation id → callback). Each has its own timer: once it runs out, or
 * its last reply has come, or an error ended it, or its caller unsubscribed,
 * the request is forgotten, and a reply for it arriving later is ignored.
 */
export class PendingRequests {
  constructor(
    private readonly routes: Map<string, ReplyCallback>,
    private readonly timeoutMs: number,
    /** The error a request fails with when its time runs out. */
    private readonly timedOut: (stream: string) => Error,
  ) {}

  get size(): number {
    return this.routes.size;
  }

  /**
   * Starts waiting for the replies of request `id`.
   *
   * @returns the teardown NestJS calls when the caller unsubscribes
   */
  add(id: string, stream: string, callback: ReplyCallback): () => void {
    const timer = setTimeout(() => {
      if (this.routes.get(id) !== route) return;
      this.routes.delete(id);
      callback({ err: this.timedOut(stream), isDisposed: true });
    }, this.timeoutMs);
    const route: ReplyCallback = (packet) => {
      if (packet.err !== undefined || packet.isDisposed === true) {
        clearTimeout(timer);
        this.routes.delete(id);
      }
      callback(packet);
    };
    this.routes.set(id, route);
    return () => {
      clearTimeout(timer);
      if (this.routes.get(id) === route) this.routes.delete(id);
    };
  }

  /** Hands a reply to the request it answers; a reply for a forgotten request is dropped. */
  deliver(id: string, packet: WritePacket): void {
    this.routes.get(id)?.(packet);
  }

  /** Ends one request with `error`, if it is still waiting. */
  fail(id: string, error: unknown): void {
    this.routes.get(id)?.({ err: error, isDisposed: true });
  }

  /** Ends every waiting request with `error`. */
  failAll(error: unknown): void {
    for (const route of [...this.routes.values()]) route({ err: error, isDisposed: true });
  }
}
