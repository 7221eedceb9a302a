import { lastValueFrom } from 'rxjs';
import { RedisConnectionError, RedisStreamsClient, RedisStreamsStatus } from '../../../src/index.js';
import { freePort } from '../../support/local-redis.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

/** Counts how often each ioredis event reached an `on()` listener. */
function countEvents(client: RedisStreamsClient): { ready: number; end: number } {
  const counts = { ready: 0, end: 0 };
  client.on('ready', () => {
    counts.ready += 1;
  });
  client.on('end', () => {
    counts.end += 1;
  });
  return counts;
}

describe('producer client on() listeners', () => {
  const scene = useScene('listeners');

  it('keeps listeners registered before connect() when connect() is called again after close()', async () => {
    const client = scene.newClient();
    const counts = countEvents(client);
    await client.connect();
    await waitFor(() => counts.ready === 1, { message: 'the first ready event' });
    await client.close();
    await waitFor(() => counts.end === 1, { message: 'the end of the first connection' });

    await client.connect();
    await waitFor(() => counts.ready === 2, { message: 'a ready event after the reconnect' });
    expect(client.unwrap().status).toBe('ready');
  });

  it('keeps listeners registered while connected when an emit after close() reconnects', async () => {
    const client = scene.newClient();
    await client.connect();
    const counts = countEvents(client);
    const statuses: string[] = [];
    client.status.subscribe((status) => statuses.push(status));
    await client.close();
    await waitFor(() => counts.end === 1, { message: 'the end of the first connection' });

    const id = await lastValueFrom(client.emit<string>(`stream:${scene.stream}`, { n: 1 }));
    expect(id).toMatch(/^\d+-\d+$/);
    await waitFor(() => counts.ready === 1, { message: 'a ready event after the reconnect' });
    expect(statuses).toEqual(expect.arrayContaining([RedisStreamsStatus.DISCONNECTED, RedisStreamsStatus.CONNECTED]));

    await client.close();
    await waitFor(() => counts.end === 2, { message: 'the end of the second connection' });
    expect(await scene.redis.xlen(scene.stream)).toBe(1);
  });

  it('adds a listener registered after close() to the next connection only once', async () => {
    const client = scene.newClient();
    await client.connect();
    await client.close();
    const counts = countEvents(client);
    await client.connect();
    await waitFor(() => counts.ready === 1, { message: 'a ready event on the new connection' });
    await client.close();
    await waitFor(() => counts.end === 1, { message: 'the end of the new connection' });
    await client.connect();
    await waitFor(() => counts.ready === 2, { message: 'a ready event on the third connection' });
  });

  it('keeps listeners registered before a connect() that failed for the connect() after it', async () => {
    const port = await freePort();
    const client = scene.newClient({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 });
    const counts = countEvents(client);
    await expect(client.connect()).rejects.toBeInstanceOf(RedisConnectionError);

    await scene.ownRedis({ port });
    await client.connect();
    await waitFor(() => counts.ready === 1, { message: 'a ready event once Redis is there' });
  });
});
