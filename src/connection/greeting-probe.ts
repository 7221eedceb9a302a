import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT } from '../constants.js';

/** Longest wait for Redis to speak first on a probe connection. */
const GREETING_WAIT_MS = 1_000;

/**
 * What Redis sends a new connection before being asked anything, read on a
 * connection of our own that writes nothing; `undefined` when it sends nothing
 * within a second, or the probe cannot connect.
 *
 * Redis speaks first only to refuse a connection: at its client limit it
 * writes `-ERR max number of clients reached` and closes. ioredis never sees
 * that line: it writes its handshake at once, Redis' closed socket answers
 * with a reset, and the kernel drops the unread line, leaving only EPIPE or
 * ECONNRESET. A connection that sends nothing receives the line intact.
 */
export function readGreeting(redis: Redis): Promise<string | undefined> {
  const { host = DEFAULT_REDIS_HOST, port = DEFAULT_REDIS_PORT, path, tls } = redis.options;
  return new Promise((resolve) => {
    let socket: Socket;
    let received = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received.length > 0 ? received : undefined);
    };
    const timer = setTimeout(finish, GREETING_WAIT_MS);
    if (path !== undefined) socket = connectTcp({ path });
    else if (tls !== undefined) socket = connectTls({ ...tls, host, port });
    else socket = connectTcp({ host, port });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}
