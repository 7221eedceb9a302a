import { connect } from 'node:net';
import type { Redis } from 'ioredis';

/**
 * Runs MONITOR on a socket of its own and hands over each monitored line
 * (`1796154097.52 [0 127.0.0.1:34808] "xack" "orders" ...`, or `[0 lua]` for
 * a command a script ran). Not ioredis' `monitor()`: on a busy server (the
 * suite's files share one) it can take the first monitored lines for replies
 * and fail with "Command queue state error".
 *
 * @returns stops monitoring (closes the socket)
 */
export async function monitorLines(redis: Redis, onLine: (line: string) => void): Promise<() => void> {
  const { host, port } = redis.options;
  // ioredis keeps null, not undefined, for credentials not set.
  const password = redis.options.password || undefined;
  const username = redis.options.username || undefined;
  const socket = connect({ host: host ?? '127.0.0.1', port: port ?? 6379 });
  let buffered = '';
  let answersToSkip = password === undefined ? 1 : 2;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end = buffered.indexOf('\r\n');
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\r\n');
        if (answersToSkip > 0) {
          // The replies to AUTH and MONITOR come first.
          if (!line.startsWith('+OK')) reject(new Error(`MONITOR refused: ${line}`));
          answersToSkip -= 1;
          if (answersToSkip === 0) resolve();
          continue;
        }
        onLine(line.slice(1));
      }
    });
    const auth = password === undefined ? [] : [command(['AUTH', ...(username === undefined ? [] : [username]), password])];
    socket.write([...auth, command(['MONITOR'])].join(''));
  });
  return () => socket.destroy();
}

/** A command in RESP: an array of bulk strings. */
function command(parts: readonly string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}
