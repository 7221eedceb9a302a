import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { RedisConnectionError, RedisStreamsClient } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { consumerConfig, spawnConsumer } from '../../support/children.js';
import { RedisProbe } from '../../support/probe.js';
import { runRoundTrip } from '../../support/round-trip.js';
import { useScene } from '../../support/scene.js';
import { startTlsRedis, type TlsRedis } from '../../support/tls.js';
import { waitFor } from '../../support/wait.js';

/** How a promise rejected (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('over TLS (a self-signed CA made with openssl, a redis-server with only its TLS port open)', () => {
  const scene = useScene('tls');
  let redis: TlsRedis;

  beforeAll(async () => {
    redis = await startTlsRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  function tlsOptions(ca: Buffer) {
    return { host: '127.0.0.1', port: redis.port, tls: { ca } };
  }

  function startServer(connection: object | string) {
    @Controller()
    class Handler {
      @EventPattern<string>(`stream:${scene.stream}`)
      handle() {}
    }
    return scene.start([Handler], fastOptions({ group: scene.group, connection, connectTimeoutMs: 2_000 }));
  }

  it('delivers, retries and dead-letters with ioredis tls options on server and client', async () => {
    const { ca } = redis.certificates;
    await runRoundTrip(scene, {
      server: tlsOptions(ca),
      // An ioredis instance made from a rediss:// URL and the CA: duplicated with its TLS settings.
      client: scene.admin(redis.url, { tls: { ca }, lazyConnect: true }),
      admin: scene.admin(redis.url, { tls: { ca } }),
    });
  });

  it('fails listen() and connect() with a RedisConnectionError naming the untrusted certificate and "tls.ca" when the CA is another one', async () => {
    const wrongCa = tlsOptions(redis.certificates.otherCa);
    const error = await rejection(startServer(wrongCa));
    expect(error).toBeInstanceOf(RedisConnectionError);
    const message = (error as Error).message;
    expect(message).toContain(`Cannot connect to Redis at 127.0.0.1:${redis.port}: the Redis server's TLS certificate is not trusted`);
    expect(message).toContain('certificate');
    expect(message).toContain('"tls.ca"');
    expect(message).not.toContain('redis-server is running');
    expect((error as Error).cause).toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });

    const client = scene.track(new RedisStreamsClient({ connection: wrongCa, connectTimeoutMs: 2_000 }));
    const clientError = await rejection(client.connect());
    expect(clientError).toBeInstanceOf(RedisConnectionError);
    expect((clientError as Error).message).toContain('"tls.ca"');
  });

  it("with a rediss:// URL trusts only the system's CAs: ours fails with the same error", async () => {
    const error = await rejection(startServer(redis.url));
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toContain("the Redis server's TLS certificate is not trusted");
    expect((error as Error).message).toContain('rediss:// URL alone trusts only the system');
  });

  it('without tls options on the TLS port fails listen() saying to set tls', async () => {
    const error = await rejection(startServer({ host: '127.0.0.1', port: redis.port }));
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toContain('set "tls" in "connection"');
  });

  it('with a rediss:// URL consumes where the system trusts the CA (NODE_EXTRA_CA_CERTS, in a child process)', async () => {
    const { ca, caFile } = redis.certificates;
    const admin = scene.admin(redis.url, { tls: { ca } });
    const child = spawnConsumer(consumerConfig(scene.spec('c1', { url: redis.url })), { NODE_EXTRA_CA_CERTS: caFile });
    scene.defer(() => child.kill('SIGKILL'));
    await child.ready;
    const probe = new RedisProbe({ redis: admin, stream: scene.stream, group: scene.group, record: scene.record });
    const id = await admin.xadd(scene.stream, '*', 'sku', 'A1');
    await waitFor(async () => (await probe.handled()).includes(id!), { message: `entry ${id} handled by the child` });
    await waitFor(async () => (await probe.pendingCount()) === 0, { message: 'the entry acknowledged' });
  });
});
