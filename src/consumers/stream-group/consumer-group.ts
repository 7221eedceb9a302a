import type { RedisCommands } from '../../connection/redis-client.js';
import type { MissingStreamPolicy } from '../../interfaces/server-options.interface.js';
import { StreamConfigurationError } from '../../errors/stream-configuration.error.js';
import { isConfigurationError, redisReplyKind } from '../../errors/redis-reply.js';
import { asConfigurationError } from '../../errors/stream-configuration.error.js';

export { asConfigurationError } from '../../errors/stream-configuration.error.js';
import { subcommandKey } from '../../connection/key-prefix.js';

/** Outcome of making sure a group exists. */
export type GroupState = 'created' | 'existed' | 'missing-stream';

/**
 * Creates the consumer group on a stream, tolerating an existing one.
 *
 * With the `wait` policy a missing stream is reported instead of created.
 *
 * @throws StreamConfigurationError when the key is not a stream or access is denied
 */
export async function ensureGroup(
  redis: RedisCommands,
  stream: string,
  group: string,
  startId: string,
  missingStream: MissingStreamPolicy,
): Promise<GroupState> {
  try {
    if (missingStream === 'wait') {
      const type = await redis.type(stream);
      if (type === 'none') return 'missing-stream';
      if (type !== 'stream') throw wrongType(stream, group, type);
      await redis.xgroup('CREATE', subcommandKey(redis, stream), group, startId);
    } else {
      await redis.xgroup('CREATE', subcommandKey(redis, stream), group, startId, 'MKSTREAM');
    }
    return 'created';
  } catch (error) {
    if (error instanceof StreamConfigurationError) throw error;
    if (redisReplyKind(error) === 'BUSYGROUP') return 'existed';
    if (isConfigurationError(error)) throw asConfigurationError(error, stream, group);
    throw error;
  }
}

/** The id of the last entry the group has handed out, for resuming after NOGROUP. */
export async function lastDeliveredId(redis: RedisCommands, stream: string, group: string): Promise<string | undefined> {
  const groups = (await redis.xinfo('GROUPS', subcommandKey(redis, stream))) as unknown[][];
  for (const info of groups) {
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(info[i], info[i + 1]);
    if (fields.get('name') === group) {
      const id = fields.get('last-delivered-id');
      return typeof id === 'string' ? id : undefined;
    }
  }
  return undefined;
}

function wrongType(stream: string, group: string, type: string): StreamConfigurationError {
  return new StreamConfigurationError(
    stream,
    group,
    `key holds a ${type}, not a stream (WRONGTYPE). Rename the key or bind the handler to another stream.`,
  );
}
