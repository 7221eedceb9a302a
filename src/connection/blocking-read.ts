import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { describeError } from '../errors/describe-error.js';
import { ConnectionLostError, GuardedConnection } from './redis-connection.js';
import { unblockRoute } from './slot-reader.js';

/** Raw XREADGROUP reply: per stream, entries as [id, flat fields or null when deleted]. */
export type ReadReply = Array<[string, Array<[string, string[] | null]>]> | null;

/** What a blocking read needs. */
export interface BlockingReadDeps {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly blockMs: number;
  /**
   * Dedicated connection (from `createReader()`): XREADGROUP BLOCK holds it.
   * CLIENT UNBLOCK for it goes out where `unblockRoute()` says: the command
   * connection, or on a cluster the command cluster's connection to its node.
   */
  readonly blocking: Redis;
  readonly logger: Logger;
}

/**
 * XREADGROUP on a stream's dedicated connection: waits for the connection
 * instead of queueing reads offline, fails a read the connection loses at once,
 * replaces a connection whose read hangs, and can be interrupted from the
 * command connection with CLIENT UNBLOCK (on a cluster, from the command
 * cluster's connection to the same node).
 */
export class BlockingRead {
  private isBlocked = false;
  private blockedSince = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private blockingClientId: number | undefined;
  /** The blocking connection, whose unanswered commands must fail when it drops. */
  private readonly connection: GuardedConnection;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: BlockingReadDeps) {
    this.connection = new GuardedConnection(deps.blocking);
    deps.blocking.on('close', () => {
      this.blockingClientId = undefined;
    });
  }

  /** Whether {@link stop} was called. */
  get isStopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Reads up to `count` entries after `cursor` (`>` blocks for new ones). A
   * read the connection loses (Redis restarted, CLIENT KILL) fails at once
   * with ConnectionLostError: ioredis would otherwise leave it unsettled.
   *
   * @returns null when stopped before the read was sent
   */
  read(cursor: string, count: number): Promise<ReadReply> {
    const { connection } = this;
    // The common case goes on the wire now, before the caller moves on: a read
    // sent ahead of handling a batch must not wait behind that batch.
    if (connection.redis.status === 'ready' && this.blockingClientId !== undefined && !this.isStopped) {
      return this.send(cursor, count, connection.epoch);
    }
    return this.readWhenReady(cursor, count);
  }

  private async readWhenReady(cursor: string, count: number): Promise<ReadReply> {
    const connection = this.connection;
    // Never queue a read while disconnected: sent after the reconnect, it would
    // hand entries to a call nobody awaits any more.
    await connection.whenReady(this.stopping.signal);
    if (this.isStopped) return null;
    const epoch = connection.epoch;
    if (this.blockingClientId === undefined) {
      // Known before blocking, so that close() can interrupt the read with
      // CLIENT UNBLOCK from the other connection.
      const id = await connection.send('CLIENT ID', (redis) => redis.client('ID'), epoch);
      if (connection.epoch !== epoch) throw new ConnectionLostError('CLIENT ID');
      this.blockingClientId = id;
      if (this.isStopped) return null;
    }
    return this.send(cursor, count, epoch);
  }

  /** Sends the read synchronously (the first await comes after the command is written). */
  private async send(cursor: string, count: number, epoch: number): Promise<ReadReply> {
    const { group, consumer, stream, blockMs } = this.deps;
    const connection = this.connection;
    if (cursor !== '>') {
      return connection.send(
        'XREADGROUP',
        (redis) => redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, cursor) as Promise<ReadReply>,
        epoch,
      );
    }
    this.isBlocked = true;
    this.blockedSince = Date.now();
    this.watchdog ??= setInterval(() => this.checkHung(), Math.max(100, Math.min(blockMs, 5_000))).unref();
    try {
      return await connection.send(
        'XREADGROUP',
        (redis) =>
          redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, '>') as Promise<ReadReply>,
        epoch,
      );
    } finally {
      this.isBlocked = false;
    }
  }

  /**
   * Ends a blocked read early (it returns empty), so that the slots it holds
   * become free; used when the reclaimer has due entries and no slot for them.
   */
  interrupt(): void {
    const via = unblockRoute(this.deps.blocking);
    if (!this.isBlocked || this.blockingClientId === undefined || via === undefined) return;
    via.client('UNBLOCK', this.blockingClientId).catch((error: unknown) => {
      this.deps.logger.debug?.(`Stream "${this.deps.stream}": CLIENT UNBLOCK failed (${describeError(error)}).`);
    });
  }

  /** Stops for good: ends waits for the connection and a blocked read. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.watchdog);
    const { blocking } = this.deps;
    if (!this.isBlocked) return;
    const via = unblockRoute(blocking);
    // CLIENT UNBLOCK makes the read return empty, so no entry is handed to a
    // read nobody will process; a dropped connection would not guarantee that.
    if (this.blockingClientId !== undefined && via !== undefined) {
      try {
        await via.client('UNBLOCK', this.blockingClientId);
        return;
      } catch (error) {
        this.deps.logger.warn(
          `Stream "${this.deps.stream}": CLIENT UNBLOCK failed (${describeError(error)}); dropping the reader's connection instead.`,
        );
      }
    }
    blocking.disconnect();
  }

  /**
   * Guards against a read that never returns (a half-open TCP connection):
   * a read blocked for more than twice the block time gets its socket
   * destroyed; the close fails the read with ConnectionLostError and ioredis
   * reconnects. One timer for the reader's life, not one per read.
   */
  private checkHung(): void {
    const limitMs = this.deps.blockMs * 2 + 1_000;
    if (!this.isBlocked || this.isStopped || Date.now() - this.blockedSince < limitMs) return;
    if (this.deps.blocking.status !== 'ready') return;
    this.deps.logger.warn(
      `Stream "${this.deps.stream}" group "${this.deps.group}": blocking read hung for over ${limitMs} ms; reconnecting its connection.`,
    );
    // Dropped at once: a polite disconnect() sends a FIN that a dead peer
    // never answers, and ioredis waits disconnectTimeout before destroying the socket.
    this.deps.blocking.stream.destroy();
  }
}
