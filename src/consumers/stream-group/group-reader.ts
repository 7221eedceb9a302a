import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../connection/redis-client.js';
import { namedStreams, SharedReader } from '../../delivery/shared-reader.js';
import type { StreamReader } from './stream-reader.js';

/** What a group reader needs. */
export interface GroupReaderDeps {
  readonly group: string;
  readonly consumer: string;
  /** BLOCK of the blocking read, the same for every stream of the group. */
  readonly blockMs: number;
  /** Most entries a read asks of one stream, `min(batchSize, concurrency)`, the same for every stream of the group. */
  readonly readCount: number;
  /** The group's dedicated blocking connection. */
  readonly blocking: Redis;
  /** Shared connection: backlog reads while the blocking one waits, CLIENT UNBLOCK, checks (on a cluster, an ioredis Cluster). */
  readonly commands: RedisClient;
  readonly logger: Logger;
}

/**
 * Reads every stream of one read group (see readGroupKey) for one consumer:
 * a {@link SharedReader} of `XREADGROUP`s, whose streams re-read their own
 * pending entries (from `0`) before they read new ones (`>`).
 */
export class GroupReader extends SharedReader<StreamReader> {
  constructor(deps: GroupReaderDeps, streams: readonly string[]) {
    const { group, consumer, blockMs, readCount, blocking, commands, logger } = deps;
    super({
      as: { group, consumer },
      blockMs,
      readCount,
      blocking,
      commands,
      logger,
      logPrefix: `${namedStreams(streams)} group "${group}":`,
    });
  }
}
