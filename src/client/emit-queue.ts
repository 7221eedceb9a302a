import type { FieldValue } from '../codec/stream-codec.js';
/** An emit waiting for a connection to Redis. */
export interface QueuedEmit {
  /** Whether it appends to a stream (XADD) or pushes to a list (RPUSH). */
  readonly kind: 'stream' | 'list';
  /** The stream or list key. */
  readonly stream: string;
  readonly fields: FieldValue[];
  /** `Date.now()` after which it fails instead of being written. */
  readonly deadline: number;
  resolve(reply: string | number): void;
  reject(error: Error): void;
}

/**
 * Emits held while Redis is not connected, oldest first, at most `capacity`.
 * Each fails once `timeoutMs` have passed; it is then taken out, so an emit
 * that has failed is never written later. One timer serves the whole queue:
 * all share one timeout, so the oldest is always the next to expire.
 */
export class EmitQueue {
  private queued: QueuedEmit[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly capacity: number,
    private readonly timeoutMs: number,
    private readonly expired: (emit: QueuedEmit) => Error,
  ) {}

  get size(): number {
    return this.queued.length;
  }

  /** Queues an emit; `undefined` when the queue is full. */
  add(kind: 'stream' | 'list', stream: string, fields: FieldValue[]): Promise<string | number> | undefined {
    if (this.queued.length >= this.capacity) return undefined;
    return new Promise<string | number>((resolve, reject) => {
      this.queued.push({ kind, stream, fields, deadline: Date.now() + this.timeoutMs, resolve, reject });
      this.arm();
    });
  }

  /** Takes every queued emit, oldest first; the caller now settles them. */
  takeAll(): QueuedEmit[] {
    const taken = this.queued;
    this.queued = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    return taken;
  }

  /** Fails every queued emit with `error`. */
  failAll(error: Error): void {
    for (const emit of this.takeAll()) emit.reject(error);
  }

  private arm(): void {
    const oldest = this.queued[0];
    if (this.timer !== undefined || oldest === undefined) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - Date.now()));
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    const due = this.queued.findIndex((emit) => emit.deadline > now);
    const expired = this.queued.splice(0, due === -1 ? this.queued.length : due);
    for (const emit of expired) emit.reject(this.expired(emit));
    this.arm();
  }
}
