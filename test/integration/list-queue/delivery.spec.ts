import { lastValueFrom } from 'rxjs';
import { ListConfigurationError, RedisListContext, type RedisStreamsServerClients } from '../../../src/index.js';
import { connectionName } from '../../../src/connection/connection-name.js';
import { fastOptions } from '../../support/apps.js';
import { keysOf, listController, listQueueKeys, pushAll } from '../../support/list-queue.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

interface Seen {
  readonly data: unknown;
  readonly consumer: string;
  readonly deliveries: number;
}

describe('list queues: delivery', () => {
  const scene = useScene('jobs');

  async function startConsumer(
    consumer: string,
    handle: (data: unknown, ctx: RedisListContext) => Promise<void> | void,
    extras?: Record<string, unknown>,
  ) {
    return scene.start([listController(scene.stream, handle, extras)], fastOptions({ group: scene.group, consumer, claimIdleMs: 1_000 }));
  }

  it('shares 1,000 entries among three consumers: each handled once, by one of them, and the list and every processing list empty at the end', async () => {
    const seen: Seen[] = [];
    const handle = async (data: unknown, ctx: RedisListContext) => {
      seen.push({ data, consumer: ctx.getConsumer(), deliveries: ctx.getDeliveryCount() });
      // A little work, so that the three really share the backlog.
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (const consumer of ['c1', 'c2', 'c3']) await startConsumer(consumer, handle, { concurrency: 20, batchSize: 10 });
    const values = Array.from({ length: 1_000 }, (_, i) => `job-${i}`);
    await pushAll(scene.redis, scene.stream, values);
    await waitFor(() => seen.length >= 1_000, { message: '1,000 entries handled' });
    await waitFor(async () => (await scene.redis.keys(`{${scene.stream}}:processing:*`)).length === 0, {
      message: 'every processing list emptied',
    });
    expect(seen).toHaveLength(1_000);
    expect(new Set(seen.map((s) => s.data)).size).toBe(1_000);
    expect([...new Set(seen.map((s) => s.data))].sort()).toEqual([...values].sort());
    expect(seen.every((s) => s.deliveries === 1)).toBe(true);
    expect(new Set(seen.map((s) => s.consumer))).toEqual(new Set(['c1', 'c2', 'c3']));
    expect(await scene.redis.llen(scene.stream)).toBe(0);
    // What is left: the registry and the three liveness keys, no list, no processing list, no retry set.
    const keys = keysOf(scene.stream, 'c1');
    expect(await listQueueKeys(scene.redis, scene.stream)).toEqual(
      [keys.registry, keysOf(scene.stream, 'c1').alive, keysOf(scene.stream, 'c2').alive, keysOf(scene.stream, 'c3').alive].sort(),
    );
  });

  it('hands foreign entries over as they are: text as strings (JSON-looking or not), other bytes as Buffers', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]);
    const seen: unknown[] = [];
    let context: RedisListContext | undefined;
    await startConsumer(
      'c1',
      (data, ctx) => {
        seen.push(data);
        context = ctx;
      },
      { concurrency: 1 },
    );
    await pushAll(scene.redis, scene.stream, ['plain text', '{"sku":"A1"}', '42', 'false', '', binary, 'grüße ✓']);
    await waitFor(() => seen.length === 7, { message: 'seven foreign entries handled' });
    expect(seen).toEqual(['plain text', '{"sku":"A1"}', '42', 'false', '', binary, 'grüße ✓']);
    expect(Buffer.isBuffer(seen[5])).toBe(true);
    expect(context).toBeInstanceOf(RedisListContext);
    expect(context!.getList()).toBe(scene.stream);
    expect(context!.getStream()).toBe(scene.stream);
    expect(context!.getPattern()).toBe(`list:${scene.stream}`);
    expect(context!.getMessageId()).toBe('');
    expect(context!.getDeliveryCount()).toBe(1);
    expect(context!.getConsumer()).toBe('c1');
    expect(context!.getGroup()).toBe(scene.group);
    expect(context!.getMetadata()).toEqual({});
    expect(context!.getEntry()).toEqual(Buffer.from('grüße ✓'));
    expect(context!.getRawFields()).toEqual([[Buffer.from('list-entry'), Buffer.from('grüße ✓')]]);
    expect(context!.signal.aborted).toBe(false);
  });

  it('handles every copy of a value queued many times', async () => {
    const seen: unknown[] = [];
    await startConsumer('c1', (data) => {
      seen.push(data);
    });
    await pushAll(
      scene.redis,
      scene.stream,
      Array.from({ length: 50 }, () => 'same'),
    );
    await waitFor(() => seen.length === 50, { message: 'fifty copies handled' });
    await waitFor(async () => (await scene.redis.llen(keysOf(scene.stream, 'c1').processing)) === 0, { message: 'processing list empty' });
    expect(seen.every((value) => value === 'same')).toBe(true);
    expect(await scene.redis.llen(scene.stream)).toBe(0);
  });

  it('never holds more than concurrency entries: the rest stay in the list', async () => {
    const gate = deferred();
    let running = 0;
    let most = 0;
    let done = 0;
    await startConsumer(
      'c1',
      async () => {
        running += 1;
        most = Math.max(most, running);
        await gate.promise;
        running -= 1;
        done += 1;
      },
      { concurrency: 3 },
    );
    await pushAll(
      scene.redis,
      scene.stream,
      Array.from({ length: 10 }, (_, i) => `job-${i}`),
    );
    await waitFor(() => running === 3, { message: 'three handlers running' });
    expect(await scene.redis.llen(keysOf(scene.stream, 'c1').processing)).toBe(3);
    expect(await scene.redis.llen(scene.stream)).toBe(7);
    gate.resolve();
    await waitFor(() => done === 10, { message: 'all ten handled' });
    expect(most).toBe(3);
  });

  it("round-trips what our client emits, also 0, false, '' and Buffers, with the lists' length as the reply", async () => {
    const seen: unknown[] = [];
    await startConsumer(
      'c1',
      (data) => {
        seen.push(data);
      },
      { concurrency: 1 },
    );
    const payloads: unknown[] = [{ sku: 'A1', qty: 2, note: null }, 0, false, '', 'text', [1, 'two'], Buffer.from([0x00, 0xff, 0x10])];
    const replies: unknown[] = [];
    for (const payload of payloads) replies.push(await lastValueFrom(scene.client.emit(`list:${scene.stream}`, payload)));
    expect(replies.every((reply) => typeof reply === 'number')).toBe(true);
    await waitFor(() => seen.length === payloads.length, { message: 'every emitted payload handled' });
    expect(seen).toEqual(payloads);
    expect(Buffer.isBuffer(seen[6])).toBe(true);
  });

  it('shows its blocking connection in unwrap(), named for the list role', async () => {
    const { server } = await startConsumer('c1', () => undefined);
    const { listReaders } = server.unwrap<RedisStreamsServerClients>();
    expect(listReaders.map((reader) => reader.list)).toEqual([scene.stream]);
    expect(listReaders[0]!.connection.status).toBe('ready');
    await waitFor(async () => (await scene.probe.clientsNamed(connectionName(scene.group, 'c1', 'list'))).length === 1, {
      message: 'the list connection in CLIENT LIST',
    });
  });

  it('refuses to start on a list key of another type, naming the key and the fix', async () => {
    await scene.redis.set(scene.stream, 'not a list');
    const failure = startConsumer('c1', () => undefined);
    await expect(failure).rejects.toBeInstanceOf(ListConfigurationError);
    await expect(failure).rejects.toThrow(`key "${scene.stream}" (the list) holds a string, not a list (WRONGTYPE)`);
  });

  it('refuses to start on a retry set of another type', async () => {
    const { retry } = keysOf(scene.stream, 'c1');
    await scene.redis.rpush(retry, 'x');
    await expect(startConsumer('c1', () => undefined)).rejects.toThrow(`key "${retry}" (the list's retry set) holds a list, not a zset`);
  });
});
