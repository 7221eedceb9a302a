import { lastValueFrom } from 'rxjs';
import { emit } from '../../support/produce.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('producer client', () => {
  const scene = useScene('emit');

  it('rejects emit() with the Redis error, and a pattern of another transport', async () => {
    const { client, redis } = scene;
    await expect(lastValueFrom(client.send('orders', { a: 1 }))).rejects.toThrow('send() needs a pattern of the form "stream:<key>"');
    const key = scene.name('plain-string');
    await redis.set(key, 'x');
    await expect(lastValueFrom(client.emit(`stream:${key}`, { a: 1 }))).rejects.toThrow('WRONGTYPE');
    await expect(lastValueFrom(client.emit('orders', { a: 1 }))).rejects.toThrow('stream:<key>');
    await expect(lastValueFrom(client.emit('stream:x', null))).rejects.toThrow('invalid data');
    const unobserved = scene.name('fire-and-forget');
    client.emit(`stream:${unobserved}`, { a: 1 });
    await waitFor(async () => (await redis.xlen(unobserved)) === 1, { message: 'write without a subscriber' });
  });

  it('trims approximately with maxLen', async () => {
    const client = scene.newClient({ maxLen: 10 });
    for (let i = 0; i < 500; i += 1) await emit(client, scene.stream, { i });
    expect(await scene.redis.xlen(scene.stream)).toBeLessThan(500);
  });
});
