import { createServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { ClientClosedError, EmitQueueFullError, EmitTimeoutError, RedisCommandError } from '../../../src/index.js';
import { freePort, type LocalRedis } from '../../support/local-redis.js';
import { emit } from '../../support/produce.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

/** A promise's outcome, readable before it settles. */
interface Watched {
  settled: boolean;
  /** The rejection; fails if the promise resolves. */
  readonly failure: Promise<unknown>;
}

function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function watch(promise: Promise<unknown>): Watched {
  const watched: Watched = {
    settled: false,
    failure: failureOf(
      promise.finally(() => {
        watched.settled = true;
      }),
    ),
  };
  return watched;
}

/** Sockets and timers of this process (Jest's own are there before a test starts). */
function openHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'Timeout').length;
}

describe('producer client faults', () => {
  const scene = useScene('client');

  /** What `stream` of the Redis at `url` holds. */
  function entriesAt(url: string, stream: string) {
    return scene.probe.with({ redis: scene.admin(url), stream }).entries();
  }

  /** A redis-server of this test's own, which it may stop and start again on the same port. */
  function ownRedis(port?: number): Promise<LocalRedis> {
    return scene.ownRedis(port === undefined ? {} : { port });
  }

  /** A TCP server that accepts connections and never answers: a Redis that hangs. */
  async function silentServer(): Promise<{ port: number; accepted: Promise<void>; closed: Promise<void> }> {
    const accepted = deferred();
    const closed = deferred();
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      // The client may reset the socket; only its closing matters here.
      socket.on('error', () => undefined);
      socket.on('close', () => closed.resolve());
      // Reads and drops the handshake, so the client's FIN is seen.
      socket.resume();
      accepted.resolve();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scene.defer(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('silent server has no port');
    return { port: address.port, accepted: accepted.promise, closed: closed.promise };
  }

  it('rejects an XADD on a key that is not a stream with a RedisCommandError naming XADD and the key, without the payload', async () => {
    const client = scene.newClient();
    const key = scene.name('plain-string');
    await scene.redis.set(key, 'x');
    const marker = scene.name('payload-marker');
    const error = await failureOf(emit(client, key, { card: marker, nested: { note: marker } }));
    expect(error).toBeInstanceOf(RedisCommandError);
    expect(error).toMatchObject({ key, reply: expect.stringMatching(/^WRONGTYPE/) as unknown });
    expect((error as RedisCommandError).command.toUpperCase()).toBe('XADD');
    expect((error as Error).message).toContain('XADD');
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).toContain('WRONGTYPE');
    expect(inspect(error, { depth: null, showHidden: true })).not.toContain(marker);
    expect(inspect(error, { depth: null, showHidden: true })).not.toContain('card');
  });

  it('fails an emit within emitTimeoutMs while Redis is down, naming its address, and never writes it later', async () => {
    const server = await ownRedis();
    const client = scene.newClient({ connection: server.url, emitTimeoutMs: 300 });
    const redis = await client.connect();
    const stream = scene.name('outage');
    await server.stop();
    await waitFor(() => redis.status !== 'ready', { message: 'the connection to drop' });
    const started = Date.now();
    const error = await failureOf(emit(client, stream, { n: 1 }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(EmitTimeoutError);
    expect(error).toMatchObject({ target: `127.0.0.1:${server.port}`, stream, timeoutMs: 300, written: 'no' });
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`);
    const back = await ownRedis(server.port);
    await waitFor(() => redis.status === 'ready', { message: 'the reconnect', timeoutMs: 15_000 });
    const id = await emit(client, stream, { n: 2 });
    expect((await entriesAt(back.url, stream)).map((entry) => entry.id)).toEqual([id]);
  }, 20_000);

  it('fails an XADD that was sent when the connection dropped within emitTimeoutMs, saying it may have been written, and reconnects', async () => {
    const server = await ownRedis();
    const client = scene.newClient({ connection: server.url, emitTimeoutMs: 300 });
    await client.connect();
    const redis = client.unwrap<Redis>();
    const pauser = scene.admin(server.url);
    // Redis holds the XADD unanswered: it is on the wire when Redis dies.
    await pauser.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    pauser.disconnect();
    const stream = scene.name('in-flight');
    const sending = failureOf(emit(client, stream, { n: 1 }));
    await waitFor(() => redis.commandQueue.length > 0, { message: 'the XADD to be sent' });
    process.kill(server.pid, 'SIGKILL');
    await waitFor(() => redis.status !== 'ready', { message: 'the connection to drop' });
    const lostAt = Date.now();
    const error = await sending;
    expect(Date.now() - lostAt).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(EmitTimeoutError);
    expect(error).toMatchObject({ target: `127.0.0.1:${server.port}`, stream, timeoutMs: 300, written: 'unknown' });
    expect((error as Error).message).toContain('may or may not have been written');
    const back = await ownRedis(server.port);
    await waitFor(() => redis.status === 'ready', { message: 'the reconnect', timeoutMs: 15_000 });
    const id = await emit(client, stream, { n: 2 });
    expect((await entriesAt(back.url, stream)).map((entry) => entry.id)).toEqual([id]);
  }, 20_000);

  it('holds at most maxQueuedEmits while Redis is down and refuses the next emit at once', async () => {
    const server = await ownRedis();
    const client = scene.newClient({ connection: server.url, emitTimeoutMs: 1_000, maxQueuedEmits: 2 });
    const redis = await client.connect();
    await server.stop();
    await waitFor(() => redis.status !== 'ready', { message: 'the connection to drop' });
    const stream = scene.name('bounded');
    const held = [watch(emit(client, stream, { n: 1 })), watch(emit(client, stream, { n: 2 }))];
    const refused = await failureOf(emit(client, stream, { n: 3 }));
    expect(refused).toBeInstanceOf(EmitQueueFullError);
    expect(refused).toMatchObject({ target: `127.0.0.1:${server.port}`, stream, limit: 2 });
    expect(held.map((emitting) => emitting.settled)).toEqual([false, false]);
    for (const error of await Promise.all(held.map((emitting) => emitting.failure))) {
      expect(error).toBeInstanceOf(EmitTimeoutError);
    }
  }, 20_000);

  it('writes every emit queued during a short outage exactly once, in order, when Redis is back', async () => {
    const server = await ownRedis();
    const client = scene.newClient({ connection: server.url, emitTimeoutMs: 10_000 });
    const redis = await client.connect();
    const stream = scene.name('blip');
    await server.stop();
    await waitFor(() => redis.status !== 'ready', { message: 'the connection to drop' });
    const queued = Array.from({ length: 50 }, (_, n) => emit(client, stream, { n }));
    const back = await ownRedis(server.port);
    const ids = await Promise.all(queued);
    expect(new Set(ids).size).toBe(50);
    const entries = await entriesAt(back.url, stream);
    expect(entries.map((entry) => entry.id)).toEqual(ids);
    expect(entries.map((entry) => JSON.parse(entry.fields.data ?? 'null') as unknown)).toEqual(
      Array.from({ length: 50 }, (_, n) => ({ n })),
    );
  }, 20_000);

  it('ends a connection still in its handshake when close() is called, failing connect() and the waiting emits', async () => {
    const silent = await silentServer();
    const before = openHandles();
    const client = scene.newClient({ connection: `redis://127.0.0.1:${silent.port}`, connectTimeoutMs: 20_000, emitTimeoutMs: 20_000 });
    const connecting = failureOf(client.connect());
    const emitting = failureOf(emit(client, scene.name('never'), { n: 1 }));
    const redis = client.unwrap<Redis>();
    await silent.accepted;
    await waitFor(() => redis.status === 'connect', { message: 'the handshake to start' });
    await client.close();
    expect(redis.status).toBe('end');
    expect(await connecting).toBeInstanceOf(ClientClosedError);
    expect(await emitting).toBeInstanceOf(ClientClosedError);
    await silent.closed;
    await expect(client.close()).resolves.toBeUndefined();
    await waitFor(() => openHandles() <= before, { message: 'no socket or timer left' });
  });

  it('ends a first connection attempt to an address where nothing listens when close() is called; close() is idempotent', async () => {
    const port = await freePort();
    const before = openHandles();
    const client = scene.newClient({ connection: `redis://127.0.0.1:${port}` });
    const connecting = failureOf(client.connect());
    const redis = client.unwrap<Redis>();
    const closing = client.close();
    expect(client.close()).toBe(closing);
    await closing;
    expect(redis.status).toBe('end');
    expect(await connecting).toBeInstanceOf(ClientClosedError);
    await waitFor(() => openHandles() <= before, { message: 'no socket or timer left' });
  });

  it('fails the emits queued during an outage with ClientClosedError when closed, and ends the connection', async () => {
    const server = await ownRedis();
    const client = scene.newClient({ connection: server.url, emitTimeoutMs: 20_000 });
    const redis = await client.connect();
    await server.stop();
    await waitFor(() => redis.status !== 'ready', { message: 'the connection to drop' });
    const queued = watch(emit(client, scene.name('closed'), { n: 1 }));
    await client.close();
    expect(await queued.failure).toBeInstanceOf(ClientClosedError);
    expect(redis.status).toBe('end');
  });
});
