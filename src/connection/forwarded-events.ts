import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import type { RedisStreamsEvents } from '../interfaces/events.interface.js';

// ioredis' own listener type, so forwarding needs no casts at the call sites.
type Listener = Parameters<Redis['on']>[1];

/**
 * The `on()` listeners of a server or client, and the connections they are
 * forwarded to. A listener is kept for good: it is added to the connections
 * open when it is registered and to every one attached later, so neither one
 * registered before the first connection nor one that outlives a connection
 * (a client closed and connected again) is lost.
 */
export class ForwardedEvents {
  private readonly listeners: Array<[keyof RedisStreamsEvents, Listener]> = [];
  private readonly connections = new Set<RedisClient>();

  /** Keeps a listener and adds it to every attached connection. */
  on<EventKey extends keyof RedisStreamsEvents>(event: EventKey, callback: RedisStreamsEvents[EventKey]): void {
    const listener = callback as Listener;
    this.listeners.push([event, listener]);
    for (const connection of this.connections) connection.on(event, listener);
  }

  /** Adds every listener, present and future, to a connection; attaching it again changes nothing. */
  attach(connection: RedisClient): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    for (const [event, listener] of this.listeners) connection.on(event, listener);
  }

  /**
   * Stops adding later listeners to a connection that is being given up. The
   * ones it has stay, so they still hear its last events (`close`, `end`).
   */
  detach(connection: RedisClient): void {
    this.connections.delete(connection);
  }
}
