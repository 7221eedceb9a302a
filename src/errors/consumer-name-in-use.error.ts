import { RedisStreamsError } from './redis-streams.error.js';

/**
 * Another live server already uses this server's consumer name in its group.
 * Both would re-read the consumer's pending entries and run them at once.
 */
export class ConsumerNameInUseError extends RedisStreamsError {
  constructor(
    readonly group: string,
    readonly consumer: string,
    /** What Redis' CLIENT LIST says about the other server's connection: id, address, idle time. */
    readonly holder: string,
  ) {
    super(
      `Consumer "${consumer}" of group "${group}" is already in use by a live connection (${holder}). ` +
        'Two servers with one consumer name would both re-read its pending entries and run them at the same time. ' +
        'Give each live instance its own "consumer" name (or leave "consumer" unset for a unique default); ' +
        'a restart under the old name works once the old process is gone. If that process is dead but its host ' +
        'never closed the connection, CLIENT KILL ID <id> ends it.',
    );
  }
}
