import { lastValueFrom } from 'rxjs';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('request-reply when a server dies', () => {
  const scene = useScene('rpc-crash');

  it('leaves a request of a server SIGKILLed mid-request pending; another reclaims and answers it while the caller waits', async () => {
    const requests = scene.name('requests');
    const options = { claimIdleMs: 500 };
    const victim = scene.spawnConsumer('victim', { behaviour: 'hang', requestStream: requests, options });
    await victim.ready;
    const client = scene.newClient({ replyTimeoutMs: 20_000 });
    const answer = lastValueFrom(client.send<{ data: unknown; by: string }>(`stream:${requests}`, { order: 7 }));
    await waitFor(async () => (await scene.probe.recordCount('started')) === 1, { message: 'the victim to start the request' });
    await victim.kill('SIGKILL');
    const pending = scene.probe.with({ stream: requests });
    expect((await pending.pendingRows()).map(([, consumer]) => consumer)).toEqual(['victim']);

    await scene.runConsumer('survivor', { requestStream: requests, options });
    await expect(answer).resolves.toEqual({ data: { order: 7 }, by: 'survivor' });
    await waitFor(async () => (await pending.pendingCount()) === 0, { message: 'the request acked' });
    const survivor = (await scene.probe.records('done')).filter((r) => r.consumer === 'survivor');
    expect(survivor).toEqual([expect.objectContaining({ consumer: 'survivor', deliveries: 2 })]);
  });
});

describe('request-reply when the connection is lost', () => {
  const scene = useScene('rpc-lost');

  it('fails every waiting request once the connection has been lost for longer than replyTimeoutMs, saying so', async () => {
    const redis = await scene.ownRedis();
    const requests = scene.name('requests');
    // Its handlers never return: close gives up on them at once instead of after the default 10 s.
    await scene.runConsumer('hanging', { url: redis.url, behaviour: 'hang', requestStream: requests, options: { shutdownTimeoutMs: 100 } });
    const client = scene.newClient({ connection: redis.url, replyTimeoutMs: 800 });
    const waiting = [1, 2].map((n) => lastValueFrom(client.send(`stream:${requests}`, n)));
    const recorder = scene.admin(redis.url);
    await waitFor(async () => (await recorder.llen(`${scene.record}:started`)) === 2, { message: 'both requests started' });
    await redis.stop();
    for (const request of waiting) {
      await expect(request).rejects.toThrow(
        /got no reply within 800 ms \(replyTimeoutMs\): the connection to Redis has been lost for \d+ ms/,
      );
    }
  });
});
