import { Redis } from 'ioredis';
import { describeConnection, describeTarget } from '../../../src/connection/connection-target.js';
import { resolveClientOptions } from '../../../src/options/resolve-client-options.js';
import { resolveServerOptions } from '../../../src/options/resolve-server-options.js';

describe('connection target', () => {
  it('defaults server and client to the same address', () => {
    const client = resolveClientOptions(undefined).connection;
    const server = resolveServerOptions({ group: 'g' }).connection;
    expect(server).toEqual(client);
    expect(describeConnection(client)).toBe('localhost:6379');
  });

  it('describes options, URLs and sockets without credentials, with the default port filled in', () => {
    expect(describeConnection({ host: 'redis.internal', port: 6380, password: 'secret' })).toBe('redis.internal:6380');
    expect(describeConnection({ port: 6380 })).toBe('localhost:6380');
    expect(describeConnection({ path: '/run/redis.sock' })).toBe('/run/redis.sock');
    expect(describeConnection('redis://user:secret@redis.internal')).toBe('redis.internal:6379');
    expect(describeConnection('rediss://:secret@redis.internal:7000/2')).toBe('redis.internal:7000');
    expect(describeConnection('not a url')).toBe('the configured address');
  });

  it('describes an ioredis client by its options', () => {
    const redis = new Redis('redis://:secret@127.0.0.1:6390', { lazyConnect: true });
    try {
      expect(describeTarget(redis)).toBe('127.0.0.1:6390');
      expect(describeConnection(redis)).toBe('127.0.0.1:6390');
    } finally {
      redis.disconnect();
    }
  });
});
