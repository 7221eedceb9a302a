import { Controller, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import type { Cluster } from 'ioredis';
import { lastValueFrom, of, toArray } from 'rxjs';
import { RedisStreamsClient, type RedisStreamsContext } from '../../../src/index.js';
import { clusterServerOptions, pendingOn, streamsOnMasters } from '../../support/cluster-apps.js';
import { startLocalCluster, type LocalCluster } from '../../support/cluster.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('request-reply on a Redis Cluster (three masters)', () => {
  const scene = useScene('cluster-rpc');
  let cluster: LocalCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  function answering(streams: readonly string[]): Type<unknown> {
    @Controller()
    class Answering {
      answer(data: { n: number; kind?: string }, ctx: RedisStreamsContext) {
        if (data.kind === 'fail') throw new RpcException({ code: 'E_CLUSTER', n: data.n });
        if (data.kind === 'many') return of(1, 2, 3);
        return { n: data.n, stream: ctx.getStream() };
      }
    }
    for (const stream of streams) {
      const method = `on${stream.replace(/\W/g, '_')}`;
      Object.defineProperty(Answering.prototype, method, {
        value(this: Answering, data: { n: number }, ctx: RedisStreamsContext) {
          return this.answer(data, ctx);
        },
      });
      const descriptor = Object.getOwnPropertyDescriptor(Answering.prototype, method)!;
      Payload()(Answering.prototype, method, 0);
      Ctx()(Answering.prototype, method, 1);
      MessagePattern(`stream:${stream}`)(Answering.prototype, method, descriptor);
    }
    return Answering;
  }

  it('answers requests to streams on every master, to two client instances, with errors and streams of replies', async () => {
    const streams = [...(await streamsOnMasters(cluster, 1, 'rpc')).keys()];
    await scene.start([answering(streams)], clusterServerOptions(cluster, { group: scene.group }));
    const clients = [0, 1].map(() => scene.track(new RedisStreamsClient({ connection: { cluster: cluster.addresses } })));
    const replies = await Promise.all(
      clients.flatMap((client, c) =>
        streams.flatMap((stream) =>
          Array.from({ length: 20 }, (_, i) =>
            lastValueFrom(client.send<{ n: number; stream: string }>(`stream:${stream}`, { n: c * 100 + i })),
          ),
        ),
      ),
    );
    let at = 0;
    for (const c of [0, 1]) {
      for (const stream of streams) {
        for (let i = 0; i < 20; i += 1) expect(replies[at++]).toEqual({ n: c * 100 + i, stream });
      }
    }
    const [first] = streams as [string];
    await expect(lastValueFrom(clients[0]!.send(`stream:${first}`, { n: 1, kind: 'fail' }))).rejects.toEqual({ code: 'E_CLUSTER', n: 1 });
    await expect(lastValueFrom(clients[1]!.send(`stream:${first}`, { n: 2, kind: 'many' }).pipe(toArray()))).resolves.toEqual([1, 2, 3]);
    for (const stream of streams) {
      await waitFor(async () => (await pendingOn(admin, stream, scene.group)) === 0, { message: `nothing pending on ${stream}` });
    }
  });
});
