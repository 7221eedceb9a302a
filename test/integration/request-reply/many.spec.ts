import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamsContext } from '../../../src/index.js';
import { REPLY_FIELD, REQUEST_FIELD } from '../../../src/constants.js';
import { createMicroservice, fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('request-reply with many callers, servers and bytes', () => {
  const scene = useScene('rpc-many');

  function echoController(pattern: string) {
    @Controller()
    class Echo {
      @MessagePattern(pattern)
      async echo(@Payload() data: { n: number; slowMs?: number }, @Ctx() ctx: RedisStreamsContext) {
        // Work that takes a while, so that both servers of the group get requests.
        if (data.slowMs !== undefined) await new Promise((resolve) => setTimeout(resolve, data.slowMs));
        return { n: data.n, by: ctx.getConsumer() };
      }
    }
    return Echo;
  }

  it('gives two client instances sending 1,000 requests each at once exactly their own 1,000 replies', async () => {
    const pattern = `stream:${scene.stream}`;
    await scene.start([echoController(pattern)], fastOptions({ group: scene.group }));
    const clients = [scene.newClient(), scene.newClient()];
    const results = await Promise.all(
      clients.map((client, c) =>
        Promise.all(Array.from({ length: 1_000 }, (_, i) => lastValueFrom(client.send<{ n: number }>(pattern, { n: c * 10_000 + i })))),
      ),
    );
    results.forEach((replies, c) => {
      expect(replies.map((reply) => reply.n)).toEqual(Array.from({ length: 1_000 }, (_, i) => c * 10_000 + i));
    });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'every request acked' });
  });

  it('trims the reply stream as the client reads it: never much more than 1,000 replies are kept', async () => {
    const pattern = `stream:${scene.stream}`;
    await scene.start([echoController(pattern)], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(Array.from({ length: 500 }, (_, n) => lastValueFrom(client.send(pattern, { n }))));
    }
    const [request] = await scene.redis.xrange(scene.stream, '-', '+', 'COUNT', 1);
    const replyStream = request![1][request![1].indexOf(REQUEST_FIELD) + 1]!.split(' ')[2]!;
    // 1,500 replies read: trimmed once the first 1,000 were, to the last one read then.
    await waitFor(async () => (await scene.redis.xlen(replyStream)) <= 501, { message: 'reply stream trimmed' });
    expect(await scene.redis.xlen(replyStream)).toBeGreaterThan(0);
    // Replies that came after the trim still reach their callers.
    expect(await lastValueFrom(client.send<{ n: number }>(pattern, { n: 7 }))).toMatchObject({ n: 7 });
  });

  it('shares requests between two servers of one group, each answered once', async () => {
    const pattern = `stream:${scene.stream}`;
    for (const consumer of ['s1', 's2']) {
      await scene.start([echoController(pattern)], fastOptions({ group: scene.group, consumer, concurrency: 5, batchSize: 5 }));
    }
    const client = scene.newClient();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, n) => lastValueFrom(client.send<{ n: number; by: string }>(pattern, { n, slowMs: 5 }))),
    );
    expect(replies.map((reply) => reply.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    const by = new Set(replies.map((reply) => reply.by));
    expect(by).toEqual(new Set(['s1', 's2']));
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'XPENDING 0' });
    // One reply per correlation id in the client's reply stream.
    const [request] = await scene.redis.xrange(scene.stream, '-', '+', 'COUNT', 1);
    // The request field is "<correlation id> <deadline> <reply stream>".
    const replyStream = request![1][request![1].indexOf(REQUEST_FIELD) + 1]!.split(' ')[2]!;
    const answered = (await scene.redis.xrange(replyStream, '-', '+')).map(([, fields]) => fields[fields.indexOf(REPLY_FIELD) + 1]);
    expect(answered).toHaveLength(200);
    expect(new Set(answered).size).toBe(200);
  });

  it('round-trips Buffer requests and replies byte for byte, concurrently to the right callers', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Bytes {
      @MessagePattern(pattern)
      reverse(@Payload() data: Buffer) {
        return Buffer.from(data).reverse();
      }
    }
    await scene.start([Bytes], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    const requests = Array.from({ length: 50 }, (_, i) => Buffer.from([i, 0x00, 0xff, 0xfe, 0xc3, 0x28, i * 3, 'é'.charCodeAt(0)]));
    requests.push(Buffer.from('plain text'), Buffer.alloc(0));
    const replies = await Promise.all(requests.map((bytes) => lastValueFrom(client.send<Buffer>(pattern, bytes))));
    replies.forEach((reply, i) => {
      expect(Buffer.isBuffer(reply)).toBe(true);
      expect(reply.equals(Buffer.from(requests[i]!).reverse())).toBe(true);
    });
  });

  it("runs the handler inside NestJS' processing hooks for requests", async () => {
    const pattern = `stream:${scene.stream}`;
    const seen: string[] = [];
    @Controller()
    class Hooked {
      @MessagePattern(pattern)
      handle(@Payload() n: number) {
        seen.push(`handler ${n}`);
        return n * 2;
      }
    }
    const { app, server } = await createMicroservice([Hooked], fastOptions({ group: scene.group }));
    scene.track(app);
    server.setOnProcessingStartHook((_transport, context, done) => {
      seen.push(`start ${(context as RedisStreamsContext).getPattern()}`);
      void done();
    });
    server.setOnProcessingEndHook(() => seen.push('end'));
    await app.listen();
    const client = scene.newClient();
    await expect(lastValueFrom(client.send(pattern, 21))).resolves.toBe(42);
    await waitFor(() => seen.length === 3, { message: 'the end hook' });
    expect(seen).toEqual([`start ${pattern}`, 'handler 21', 'end']);
  });
});

describe('request-reply with an ioredis keyPrefix on server and client', () => {
  const scene = useScene('rpc-kp');

  it('answers, and every key in Redis (request stream, reply stream) carries the prefix exactly once', async () => {
    const redis = await scene.ownRedis();
    const admin = scene.admin(redis.url);
    const keyPrefix = 'shop:';
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Echo {
      @MessagePattern(pattern)
      echo(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        return { data, stream: ctx.getStream() };
      }
    }
    await scene.start([Echo], fastOptions({ group: scene.group, connection: { host: '127.0.0.1', port: redis.port, keyPrefix } }));
    const client = scene.newClient({ connection: `${redis.url}?keyPrefix=${encodeURIComponent(keyPrefix)}` });
    await expect(lastValueFrom(client.send(pattern, 1))).resolves.toEqual({ data: 1, stream: scene.stream });
    const keys = await admin.keys('*');
    expect(keys).toHaveLength(2);
    expect(keys).toContain(`${keyPrefix}${scene.stream}`);
    expect(keys.find((key) => key !== `${keyPrefix}${scene.stream}`)).toMatch(/^shop:nrs:reply:[0-9a-f-]{36}$/);
    await scene.close(client);
    expect(await admin.keys('*')).toEqual([`${keyPrefix}${scene.stream}`]);
  });
});
