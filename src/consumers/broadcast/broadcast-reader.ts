import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../connection/redis-client.js';
import { namedStreams, SharedReader } from '../../delivery/shared-reader.js';
import { describeError } from '../../errors/describe-error.js';
import type { BroadcastStream } from './broadcast-stream.js';
import { streamTip } from './stream-tip.js';

/** What a broadcast reader needs. */
export interface BroadcastReaderDeps {
  /** BLOCK of the blocking read, the same for every stream of the reader. */
  readonly blockMs: number;
  /** Most entries a read asks of one stream, `min(batchSize, concurrency)`, the same for every stream. */
  readonly readCount: number;
  /** How often streams that read nothing since the last look are looked at (`streamWaitIntervalMs`). */
  readonly lookIntervalMs: number;
  /** The reader's dedicated blocking connection. */
  readonly blocking: Redis;
  /** Shared connection: backlog reads, CLIENT UNBLOCK, looks at the streams' tips (on a cluster, an ioredis Cluster). */
  readonly commands: RedisClient;
  readonly logger: Logger;
}

/**
 * Reads broadcast streams that can be read together (see readGroupKey)
 * without a consumer group: a {@link SharedReader} of plain `XREAD`s, one
 * blocking `XREAD ... BLOCK ms STREAMS k1 k2 ... id1 id2` for the streams
 * waiting for new entries.
 *
 * A blocking XREAD waits for entries after its ids for ever, even when the
 * key is deleted and written again with lower ids. So every
 * `lookIntervalMs` the streams that read nothing since the last look (and
 * only those) have their tip looked at (`XINFO STREAM`, all sent at once):
 * a stream gone or recreated is read again from its start.
 */
export class BroadcastReader extends SharedReader<BroadcastStream> {
  private lookTimer: NodeJS.Timeout | undefined;
  private isLooking = false;

  constructor(
    private readonly broadcastDeps: BroadcastReaderDeps,
    streams: readonly string[],
  ) {
    const { blockMs, readCount, blocking, commands, logger } = broadcastDeps;
    super({
      as: 'broadcast',
      blockMs,
      readCount,
      blocking,
      commands,
      logger,
      logPrefix: `Broadcast ${lowerFirst(namedStreams(streams))}:`,
    });
  }

  override start(): void {
    super.start();
    this.lookTimer ??= setInterval(() => void this.look(), this.broadcastDeps.lookIntervalMs);
    this.lookTimer.unref();
  }

  override async stop(): Promise<void> {
    clearInterval(this.lookTimer);
    await super.stop();
  }

  /** Looks at the tips of the idle streams; restarts those deleted or recreated. */
  private async look(): Promise<void> {
    if (this.isLooking || this.isStopping) return;
    const idle = this.members.filter((stream) => stream.isDueForLook());
    if (idle.length === 0) return;
    this.isLooking = true;
    const { commands, logger } = this.broadcastDeps;
    try {
      // Sent together: one round trip on one Redis (ioredis writes them in one go), one per node on a cluster.
      const tips = await Promise.allSettled(idle.map((stream) => streamTip(commands, stream.stream)));
      let wakes = false;
      tips.forEach((tip, i) => {
        const stream = idle[i]!;
        if (tip.status === 'rejected') {
          logger.debug?.(`${stream.logPrefix} could not look at the stream (${describeError(tip.reason)}).`);
          return;
        }
        if (stream.looked(tip.value) === 'same') return;
        wakes = true;
        if (this.isBlockedOn(stream)) this.interrupt();
      });
      if (wakes) this.wake();
    } finally {
      this.isLooking = false;
    }
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
