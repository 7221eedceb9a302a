import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { decodeReply, type ReplyPacket } from '../codec/reply-codec.js';
import { fromBytes, mayHaveLostBytes, type FieldValue } from '../codec/stream-codec.js';
import { REPLY_STREAM_RENEW_MS, REPLY_STREAM_TRIM_EVERY, REPLY_STREAM_TTL_MS } from '../constants.js';
import { describeError } from '../errors/describe-error.js';
import { redactError } from '../errors/redact.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { BlockingRead, type ReadEntries, type ReadReply } from '../connection/blocking-read.js';
import type { ForwardedEvents } from '../connection/forwarded-events.js';
import {
  ConnectionLostError,
  connectWithin,
  createReader,
  quitQuietly,
  reconnectDelayMs,
  type RedisClient,
} from '../connection/redis-connection.js';

/** How long one reply read blocks before it is sent again. */
const REPLY_BLOCK_MS = 5_000;
/** Most replies taken per read. */
const REPLY_READ_COUNT = 1_000;

/** What a reply listener works with. */
export interface ReplyListenerDeps {
  readonly connection: RedisConnection;
  /** The client's command connection: creates, renews and deletes the stream, and sends CLIENT UNBLOCK. */
  readonly commands: RedisClient;
  /** The reply stream's key (without any keyPrefix). */
  readonly key: string;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly events: ForwardedEvents;
  /** Called with every reply, in the order they were written. */
  readonly onReply: (id: string, packet: ReplyPacket) => void;
}

/**
 * Reads one client's reply stream with plain `XREAD BLOCK` (no group: the
 * stream is the client's own) on a connection shared with nothing else, from
 * the stream's beginning: the stream is created when the listener opens, so
 * every reply in it is for this client and none written before the first
 * read is missed.
 *
 * The client owns the stream's life: it creates the stream empty with a time
 * to live, renews it while it lives (after a reconnect too, recreating it if
 * it expired meanwhile) and deletes it on close. Servers append with
 * `NOMKSTREAM`, so a reply for a client that is gone never creates a key: a
 * dead client leaves nothing behind once its stream's TTL has run out.
 */
export class ReplyListener {
  private readonly reader: Redis;
  private readonly read: BlockingRead;
  private readonly stopping = new AbortController();
  private lastId = '0-0';
  /** Replies read since the stream was last trimmed. */
  private readSinceTrim = 0;
  private loop: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly onCommandsReady = (): void => this.renew();

  constructor(private readonly deps: ReplyListenerDeps) {
    this.reader = createReader(deps.connection, deps.commands, deps.key, {
      connectionName: 'nrs:replies',
      maxRetriesPerRequest: null,
      // A read resent after a reconnect would hand replies to a call nobody awaits; the loop reads again.
      autoResendUnfulfilledCommands: false,
    });
    deps.events.attach(this.reader);
    this.reader.on('error', (error: Error) => {
      if (!this.stopping.signal.aborted) deps.logger.warn(`Redis reply connection: ${describeError(error)}`);
    });
    this.read = new BlockingRead({
      logPrefix: `Reply stream "${deps.key}":`,
      // A plain XREAD, as broadcast streams are read: no group keeps state in Redis.
      as: 'broadcast',
      blockMs: REPLY_BLOCK_MS,
      blocking: this.reader,
      logger: deps.logger,
    });
  }

  /** The reply stream's key, as requests name it. */
  get key(): string {
    return this.deps.key;
  }

  /**
   * Connects the reading connection, creates the stream and starts reading.
   *
   * @throws RedisConnectionError when the connection fails within `connectTimeoutMs`
   */
  async open(): Promise<void> {
    try {
      await connectWithin(this.reader, this.deps.connectTimeoutMs);
      await this.create();
    } catch (error) {
      await this.close();
      throw redactError(error, this.deps.key);
    }
    this.deps.commands.on('ready', this.onCommandsReady);
    this.renewTimer = setInterval(() => this.renew(), REPLY_STREAM_RENEW_MS).unref();
    this.loop = this.run();
  }

  /** Stops reading (interrupting the blocked read), deletes the stream and closes the connection. */
  async close(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.renewTimer);
    this.deps.commands.off('ready', this.onCommandsReady);
    await this.read.stop();
    await this.loop;
    const { commands, key } = this.deps;
    if (commands.status === 'ready') {
      await commands.del(key).catch((error: unknown) => {
        this.deps.logger.warn(`Could not delete reply stream "${key}" (${describeError(redactError(error, key))}); it expires on its own.`);
      });
    }
    this.deps.events.detach(this.reader);
    await quitQuietly(this.reader);
  }

  /** Creates the stream empty (an entry trimmed away at once) with its time to live. */
  private async create(): Promise<void> {
    const { commands, key } = this.deps;
    await commands.xadd(key, 'MAXLEN', '0', '*', 'nrs', 'reply-stream');
    await commands.pexpire(key, REPLY_STREAM_TTL_MS);
  }

  /** Renews the stream's time to live; recreates the stream if it expired (the client was away too long). */
  private renew(): void {
    const { commands, key, logger } = this.deps;
    if (this.stopping.signal.aborted || commands.status !== 'ready') return;
    commands
      .pexpire(key, REPLY_STREAM_TTL_MS)
      .then((renewed) => {
        if (renewed === 1 || this.stopping.signal.aborted) return undefined;
        logger.warn(
          `Reply stream "${key}" had expired (Redis was out of reach too long); recreating it. Replies written meanwhile are lost.`,
        );
        return this.create();
      })
      .catch((error: unknown) => logger.warn(`Could not renew reply stream "${key}" (${describeError(redactError(error, key))}).`));
  }

  /** One loop for the listener's life: read, hand the replies over, read again. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      try {
        await this.read.prepare();
        if (this.stopping.signal.aborted) break;
        const reply = await this.read.read({ streams: [this.deps.key], ids: [this.lastId], count: REPLY_READ_COUNT });
        failures = 0;
        const delivering = this.deliver(reply);
        if (delivering !== undefined) await delivering;
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        failures += 1;
        if (!(error instanceof ConnectionLostError)) {
          this.deps.logger.warn(
            `Reading reply stream "${this.deps.key}" failed (${describeError(redactError(error, this.deps.key))}); retrying.`,
          );
        }
        await this.pause(reconnectDelayMs(failures));
      }
    }
  }

  /** Hands the replies over in order; resolves at once unless one must be read again as bytes. */
  private deliver(reply: ReadReply): Promise<void> | undefined {
    const entries = reply?.[0]?.[1];
    if (entries === undefined) return undefined;
    for (let i = 0; i < entries.length; i += 1) {
      const [id, flat] = entries[i]!;
      this.lastId = id;
      if (flat === null) continue;
      // Bytes that are not UTF-8 came back as U+FFFD: read this reply again as bytes, then go on.
      if (mayHaveLostBytes(flat)) return this.deliverExactly(entries, i);
      this.hand(id, flat);
    }
    this.trimNow(entries.length);
    return undefined;
  }

  /** {@link deliver} from entry `from` on, reading each that may have lost bytes again as bytes. */
  private async deliverExactly(entries: ReadEntries, from: number): Promise<void> {
    for (let i = from; i < entries.length; i += 1) {
      const [id, flat] = entries[i]!;
      this.lastId = id;
      if (flat === null) continue;
      this.hand(id, mayHaveLostBytes(flat) ? await this.readBytes(id, flat) : flat);
    }
    this.trimNow(entries.length);
  }

  private hand(id: string, flat: readonly FieldValue[]): void {
    const decoded = decodeReply(flat);
    if (decoded.kind === 'undecodable') {
      this.deps.logger.warn(`Reply ${id} in "${this.deps.key}" ignored: ${decoded.reason}.`);
      return;
    }
    this.deps.onReply(decoded.id, decoded.packet);
  }

  /** Counts `read` replies as read; trims the stream up to the last one read once enough have been. */
  private trimNow(read: number): void {
    this.readSinceTrim += read;
    if (this.readSinceTrim < REPLY_STREAM_TRIM_EVERY) return;
    this.readSinceTrim = 0;
    const { commands, key, logger } = this.deps;
    commands
      .xtrim(key, 'MINID', this.lastId)
      .catch((error: unknown) =>
        logger.warn(
          `Could not trim reply stream "${key}" (${describeError(redactError(error, key))}); it grows until the client closes. A client that calls send() needs +xtrim on ~nrs:reply:*.`,
        ),
      );
  }

  private async readBytes(id: string, flat: readonly FieldValue[]): Promise<readonly FieldValue[]> {
    const rows = await this.deps.commands.xrangeBuffer(this.deps.key, id, id);
    return rows[0] === undefined ? flat : fromBytes(rows[0][1]);
  }

  private pause(delayMs: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, delayMs);
      signal.addEventListener('abort', done);
    });
  }
}
