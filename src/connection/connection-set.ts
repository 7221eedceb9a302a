import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { describeError } from '../errors/describe-error.js';
import { RedisStreamsStatus } from '../interfaces/status.enum.js';
import type { ResolvedServerOptions } from '../options/resolve-server-options.js';
import { connectionName, type ConnectionRole } from './connection-name.js';
import type { ForwardedEvents } from './forwarded-events.js';
import { abandon, connectWithin, createClient, createReader, quitQuietly, type RedisClient } from './redis-connection.js';
import { defineScripts, type StreamScripts } from './scripts.js';
import { defineListScripts, type ListScripts } from './list-scripts.js';
import { isCluster } from './redis-client.js';
import { keyPrefixOfClient } from './key-prefix.js';
import { keySlot } from '../routing/hash-slot.js';

/** Longest wait for a reply on the command connection before it counts as dead. */
const COMMAND_SOCKET_TIMEOUT_MS = 10_000;

/** Time past `shutdownTimeoutMs` that close() keeps waiting for an unreachable Redis. */
const CLOSE_GRACE_MS = 1_000;

/** A blocking connection, the streams it reads, and how: as the consumer group's consumer, or by broadcast (plain XREAD). */
export interface ReaderConnection {
  readonly connection: Redis;
  readonly streams: readonly string[];
  readonly mode: 'group' | 'broadcast';
}

/** A list queue's blocking connection (BLMOVE) and the list it waits on. */
export interface ListReaderConnection {
  readonly connection: Redis;
  readonly list: string;
}

/**
 * Owns the server's connections: one shared command connection (on a
 * cluster, an ioredis Cluster) and one blocking connection per group of
 * streams read together (on a cluster, to the master serving their slot),
 * and one per bound list queue (BLMOVE waits on one list).
 * Reports their combined state as one status and forwards their events to
 * `on()` listeners.
 */
export class ConnectionSet {
  private commandClient: RedisClient | undefined;
  private commandScripts: StreamScripts | undefined;
  private readonly readerClients: ReaderConnection[] = [];
  private readonly listReaderClients: ListReaderConnection[] = [];
  private commandListScripts: ListScripts | undefined;
  private isClosing = false;
  private lastStatus: RedisStreamsStatus | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ResolvedServerOptions,
    private readonly logger: Logger,
    private readonly onStatus: (status: RedisStreamsStatus) => void,
    /** The server's `on()` listeners, added to every connection opened here. */
    private readonly events: ForwardedEvents,
  ) {}

  /** The shared command connection. */
  get commands(): RedisClient {
    if (this.commandClient === undefined) throw new Error('command connection not open');
    return this.commandClient;
  }

  /** Lua scripts registered on the command connection. */
  get scripts(): StreamScripts {
    if (this.commandScripts === undefined) throw new Error('command connection not open');
    return this.commandScripts;
  }

  /** The list queues' Lua scripts, registered on the command connection. */
  get listScripts(): ListScripts {
    if (this.commandListScripts === undefined) throw new Error('command connection not open');
    return this.commandListScripts;
  }

  /** The CLIENT SETNAME name of this server's connections of `role`. */
  nameOf(role: ConnectionRole): string {
    return connectionName(this.options.group, this.options.consumer, role);
  }

  /** Opens the command connection, failing within `connectTimeoutMs`. */
  async openCommands(): Promise<void> {
    const client = createClient(this.options.connection, {
      connectionName: this.nameOf('commands'),
      // The acker already sends one XACK per stream per turn; auto-pipelining
      // would wrap each of those lone commands in a Pipeline of its own.
      enableAutoPipelining: false,
      // Acks and claims wait out a reconnect instead of failing after N tries.
      maxRetriesPerRequest: null,
      // Only non-blocking commands run here, so a reply this late means a
      // half-open connection: drop it and reconnect.
      socketTimeout: COMMAND_SOCKET_TIMEOUT_MS,
    });
    this.commandClient = client;
    this.commandScripts = defineScripts(client);
    this.commandListScripts = defineListScripts(client);
    this.watch(client, 'commands');
    await connectWithin(client, this.options.connectTimeoutMs);
  }

  /**
   * Where a stream's key lives, for grouping streams into shared reads (see
   * readGroupKey): streams of different partitions are never read by one
   * command. Empty on a single Redis, where any streams can be read together;
   * on a cluster the key's hash slot (a multi-key command must stay within
   * one), and {@link openReader} then connects to the node serving that slot.
   */
  readPartition(stream: string): string {
    const commands = this.commands;
    return isCluster(commands) ? String(keySlot(`${keyPrefixOfClient(commands)}${stream}`)) : '';
  }

  /**
   * Opens the blocking connection that reads `streams` (one read group, one
   * partition): the group's XREADGROUP (named `…:read`), or broadcast
   * streams' XREAD (named `…:broadcast`).
   */
  async openReader(streams: readonly string[], mode: ReaderConnection['mode'] = 'group'): Promise<Redis> {
    const client = createReader(this.options.connection, this.commands, streams[0] ?? '', {
      connectionName: this.nameOf(mode === 'group' ? 'read' : 'broadcast'),
      maxRetriesPerRequest: null,
      // A read resent after a reconnect could deliver entries to a call nobody
      // awaits any more; the loop issues a fresh read instead.
      autoResendUnfulfilledCommands: false,
    });
    this.readerClients.push({ connection: client, streams: [...streams], mode });
    const first = streams.slice(0, 3).map((s) => `"${s}"`);
    this.watch(
      client,
      `${mode === 'group' ? '' : 'broadcast '}reader of ${first.join(', ')}${streams.length > 3 ? ` and ${streams.length - 3} more` : ''}`,
    );
    await connectWithin(client, this.options.connectTimeoutMs);
    return client;
  }

  /**
   * Opens the blocking connection a list queue's BLMOVE waits on (on a
   * cluster, to the master serving the list's slot).
   */
  async openListReader(list: string): Promise<Redis> {
    const client = createReader(this.options.connection, this.commands, list, {
      connectionName: this.nameOf('list'),
      maxRetriesPerRequest: null,
      // A BLMOVE resent after a reconnect would move an entry for a call
      // nobody awaits any more (it would wait in the processing list until a
      // restart); the loop issues a fresh one instead.
      autoResendUnfulfilledCommands: false,
    });
    this.listReaderClients.push({ connection: client, list });
    this.watch(client, `list reader of "${list}"`);
    await connectWithin(client, this.options.connectTimeoutMs);
    return client;
  }

  /** The clients, for `unwrap()`. */
  clients(): { commands: RedisClient; readers: readonly ReaderConnection[]; listReaders: readonly ListReaderConnection[] } {
    return { commands: this.commands, readers: this.readerClients, listReaders: this.listReaderClients };
  }

  /**
   * From now on connection losses are expected and not reported. Commands
   * wait through reconnects (`maxRetriesPerRequest: null`), so with Redis away
   * for the whole shutdown, close() would wait for them for ever: past
   * `shutdownTimeoutMs` (plus the second acks get to flush), the commands still
   * waiting on a disconnected client fail instead.
   */
  markClosing(): void {
    if (this.isClosing) return;
    this.isClosing = true;
    this.giveUpTimer = setTimeout(() => {
      const disconnected = this.all().filter((client) => client.status !== 'ready');
      if (disconnected.length === 0) return;
      this.logger.warn(
        `Redis still unreachable ${this.options.shutdownTimeoutMs + CLOSE_GRACE_MS} ms into shutdown; giving up on the commands waiting for it (unacknowledged entries stay pending and are delivered again).`,
      );
      for (const client of disconnected) void abandon(client);
    }, this.options.shutdownTimeoutMs + CLOSE_GRACE_MS);
  }

  /** Quits every connection. */
  async closeAll(): Promise<void> {
    this.isClosing = true;
    clearTimeout(this.giveUpTimer);
    await Promise.all([...this.readerClients, ...this.listReaderClients].map(({ connection }) => quitQuietly(connection)));
    if (this.commandClient !== undefined) await quitQuietly(this.commandClient);
  }

  private all(): RedisClient[] {
    return [
      ...(this.commandClient ? [this.commandClient] : []),
      ...this.readerClients.map(({ connection }) => connection),
      ...this.listReaderClients.map(({ connection }) => connection),
    ];
  }

  private watch(client: RedisClient, role: string): void {
    this.events.attach(client);
    client.on('error', (error: Error) => {
      if (!this.isClosing) this.logger.warn(`Redis ${role} connection: ${describeError(error)}`);
    });
    client.on('ready', () => this.updateStatus());
    client.on('reconnecting', () => this.updateStatus());
    client.on('end', () => this.updateStatus());
  }

  private updateStatus(): void {
    if (this.isClosing) return;
    const statuses = this.all().map((client) => client.status);
    let status: RedisStreamsStatus;
    if (statuses.every((s) => s === 'ready')) status = RedisStreamsStatus.CONNECTED;
    else if (statuses.some((s) => s === 'end')) status = RedisStreamsStatus.DISCONNECTED;
    else status = RedisStreamsStatus.RECONNECTING;
    if (status === this.lastStatus) return;
    if (status === RedisStreamsStatus.RECONNECTING) this.logger.warn('Lost the connection to Redis; reconnecting.');
    if (status === RedisStreamsStatus.CONNECTED && this.lastStatus !== undefined) this.logger.log('Reconnected to Redis.');
    this.lastStatus = status;
    this.onStatus(status);
  }
}
