import type { Redis } from 'ioredis';

/**
 * Bounds how long the commands that were waiting for a reply when the
 * connection dropped wait for it to come back.
 *
 * ioredis keeps those commands and sends them again once it has reconnected,
 * however long that takes, and has no public way to fail them. Once the
 * connection has been away for `timeoutMs`, `disconnect()` marks the close as
 * manual and one immediate connection attempt then either ends the client,
 * failing every command it holds ("Connection is closed."), when Redis is
 * still away, or sends them if Redis is back. After the end, the watch
 * connects again so the client keeps reconnecting as before. It acts once per
 * outage: emits made later wait in the client's own queue, not in ioredis'.
 *
 * Measured with ioredis 6: a killed Redis fails an in-flight XADD about
 * `timeoutMs` after the drop instead of after ~73 s (20 reconnect attempts).
 */
export class OutageWatch {
  private timer: NodeJS.Timeout | undefined;
  private isWatching = false;
  private outlasted = false;

  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {
    redis.on('ready', () => this.onReady());
    redis.on('close', () => this.onClose());
    redis.on('end', () => this.onEnd());
  }

  /**
   * Whether the connection has been away for longer than `timeoutMs` since it
   * was last ready: a command failing now failed because of that.
   */
  get hasOutlasted(): boolean {
    return this.outlasted;
  }

  /** Starts watching; called once the first connection is ready. */
  start(): void {
    this.isWatching = true;
  }

  /** Stops for good (the client is closing). */
  stop(): void {
    this.isWatching = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onReady(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.outlasted = false;
  }

  private onClose(): void {
    if (!this.isWatching || this.outlasted || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.expire(), this.timeoutMs);
  }

  private expire(): void {
    this.timer = undefined;
    if (!this.isWatching || this.redis.status === 'ready') return;
    this.outlasted = true;
    this.redis.disconnect();
    // Rejects when Redis is still away (the client has then ended and failed
    // its commands; onEnd reconnects), or at once while a socket is still
    // being closed (its close ends the client the same way).
    this.redis.connect().catch(() => undefined);
  }

  private onEnd(): void {
    if (!this.isWatching) return;
    // Rejects on a failed attempt; ioredis then keeps retrying on its own.
    this.redis.connect().catch(() => undefined);
  }
}
