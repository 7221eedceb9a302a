import type { Cluster, Redis } from 'ioredis';
import type { RedisStreamsStatus } from './status.enum.js';

/** Something that stopped for good: a stream reader, with why. */
export interface RedisStreamsFailure {
  /** The stream (or list) it concerns, when it concerns one. */
  readonly stream: string | undefined;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

/**
 * What a server or client says about its own health: what the health
 * indicator (`nestjs-redis-streams/terminus`) and the CLI judge.
 */
export interface RedisStreamsHealthSnapshot {
  readonly kind: 'server' | 'client';
  /** The last status reported on `status`; undefined before the first (a client that has not connected yet). */
  readonly status: RedisStreamsStatus | undefined;
  /** Epoch ms since when `status` holds (the target's creation when there is none yet). */
  readonly statusSince: number;
  /** `close()` was called (a client: and has not finished). */
  readonly isClosing: boolean;
  /** Readers stopped on an error that retrying cannot fix (a key of the wrong type, a permission taken away). */
  readonly failures: readonly RedisStreamsFailure[];
  /** The server's group; undefined for a client. */
  readonly group: string | undefined;
  /** The server's bound streams with their dead-letter streams (as bound, without a keyPrefix); none for a client. */
  readonly streams: ReadonlyArray<{ readonly stream: string; readonly deadLetterStream: string }>;
  /** The command connection, for reading figures (lag, pending, dead letters); undefined until connected. */
  readonly commands: Redis | Cluster | undefined;
}
