import type { LoggerService } from '@nestjs/common';
import { subcommandKey } from '../connection/key-prefix.js';
import { describeError } from '../errors/describe-error.js';
import { NoResponderError } from '../errors/no-responder.error.js';
import { redactError } from '../errors/redact.js';
import { isNoSuchKey } from '../errors/redis-reply.js';
import { isReplyError } from '../connection/connect-failure.js';

/** What a group lookup asks Redis through: a `Redis` or a `Cluster`. */
export interface GroupInfoSource {
  xinfo(subcommand: 'GROUPS', key: string): Promise<unknown>;
  readonly options: { readonly keyPrefix?: string | undefined };
}

/**
 * Whether a stream has a consumer group, so that a request to a stream nobody
 * reads fails at once instead of at its timeout. Looked up with
 * `XINFO GROUPS` once per stream and trusted for `ttlMs`; a stream without a
 * group is looked up again on every request (a server may start any moment).
 */
export class GroupLookup {
  /** Stream → when its group was last seen (epoch ms). */
  private readonly seen = new Map<string, number>();
  private readonly looking = new Map<string, Promise<void>>();
  private hasWarned = false;

  constructor(
    private readonly ttlMs: number,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  /**
   * `undefined` when the stream is known to have a group (the hot path: no
   * promise); otherwise a lookup that rejects with NoResponderError when it has none.
   */
  check(redis: GroupInfoSource, stream: string): Promise<void> | undefined {
    const at = this.seen.get(stream);
    if (at !== undefined && Date.now() - at < this.ttlMs) return undefined;
    let lookup = this.looking.get(stream);
    if (lookup === undefined) {
      lookup = this.lookUp(redis, stream).finally(() => this.looking.delete(stream));
      this.looking.set(stream, lookup);
    }
    return lookup;
  }

  private async lookUp(redis: GroupInfoSource, stream: string): Promise<void> {
    let groups: unknown;
    try {
      groups = await redis.xinfo('GROUPS', subcommandKey(redis, stream));
    } catch (error) {
      if (isNoSuchKey(error)) throw new NoResponderError(stream);
      if (isReplyError(error)) {
        // Without XINFO (ACL) the request is sent anyway; a stream nobody reads then fails at the reply timeout.
        if (!this.hasWarned) {
          this.hasWarned = true;
          this.logger.warn(
            `Could not look up the consumer groups of "${stream}" (${describeError(redactError(error, stream))}); requests are sent without that check.`,
          );
        }
        this.seen.set(stream, Date.now());
        return;
      }
      throw redactError(error, stream);
    }
    if (!Array.isArray(groups) || groups.length === 0) throw new NoResponderError(stream);
    this.seen.set(stream, Date.now());
  }
}
